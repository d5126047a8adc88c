"""lipgan: trainable LipGAN and Wav2Lip models, their audio features, data and training.

Public API (what the lip-sync stage imports):
    lipgan.audio.melspectrogram, lipgan.audio.mel_window_for_frame, lipgan.audio.mfcc
    lipgan.models.wav2lip.Wav2Lip, lipgan.models.syncnet.SyncNetColor,
    lipgan.models.discriminator.QualityDiscriminator,
    lipgan.models.lipgan.LipGANGenerator / LipGANDiscriminator
    lipgan.checkpoint.load_wav2lip / load_syncnet / load_lipgan
Command lines: `python -m lipgan.preprocess`, `python -m lipgan.train`.
Importing this package imports nothing heavy.
"""
