"""The 30 everyday and speech-style sentences of docs/asr_mt.md, through the default MT.

    python -m bench.mt_examples --out bench/results/mt_examples.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from stages.mt._dictionary import load_dictionary  # noqa: E402
from stages.mt.lexicon import TransferTranslator  # noqa: E402

SENTENCES = """I am in the house.
She is reading a book.
My mother cooks food every day.
We will go to the market tomorrow.
He does not want to go.
The boy has eaten three apples.
Did you see the girls in the old house?
Where do you live?
I can speak Hindi.
You should drink water.
The letter was written by my brother.
I have two sisters.
They were playing in the garden.
Everybody knows that my brother is a good man.
I don't know where she lives.
If it rains tomorrow, we will stay at home.
The children are sleeping.
My father works in a big office.
She gave me a new phone.
Please close the door.
Thank you, God bless you, and God bless the United States of America.
Today I want to talk about our economy.
We have created more than one million new jobs.
This is a very important moment for our country.
Our families deserve a government that works for them.
I will never stop fighting for you.
Many people are looking for work.
We are going to build new schools.
The president met the leaders of India and China.
Have a good weekend.""".splitlines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    translator = TransferTranslator(load_dictionary())
    rows = [{"en": s, "hi": translator.translate(s)} for s in SENTENCES]
    report = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "command": "python -m bench.mt_examples " + " ".join(argv or sys.argv[1:]),
              "backend": "lexicon (transfer)", "rows": rows}
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    for row in rows:
        print(f"{row['en']}\t{row['hi']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
