"""A tiny MarianMT model with a tokenizer trained here, saved in the Hugging Face layout and
trained for a few seconds to memorise a few pairs (for the Marian and IndicTrans2 tests)."""

from __future__ import annotations

import json
from pathlib import Path



def build_tiny_marian(folder: Path, pairs: list[tuple[str, str]]) -> Path:
    import sentencepiece
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    torch.manual_seed(0)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(t for pair in pairs for t in pair) * 5 + "\n", encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "spm"), vocab_size=40, model_type="word",
        hard_vocab_limit=False, character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0)
    processor = sentencepiece.SentencePieceProcessor(model_file=str(folder / "spm.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    model_dir = folder / "opus-mt-tiny"
    model_dir.mkdir()
    tokenizer = MarianTokenizer(source_spm=str(folder / "spm.model"),
                                target_spm=str(folder / "spm.model"),
                                vocab=str(folder / "vocab.json"), source_lang="en",
                                target_lang="hi")
    config = MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=32, pad_token_id=2, eos_token_id=0,
        decoder_start_token_id=2, forced_eos_token_id=0)
    model = MarianMTModel(config)
    batch = tokenizer([en for en, _ in pairs], text_target=[hi for _, hi in pairs],
                      return_tensors="pt", padding=True)
    batch["labels"][batch["labels"] == 2] = -100
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only fight over the shared CPU
    try:
        for _ in range(150):  # memorise the two pairs
            loss = model(**batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return model_dir
