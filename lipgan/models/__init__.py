"""The networks: Wav2Lip generator, SyncNet expert, quality discriminator, LipGAN."""
