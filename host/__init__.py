"""NTHU AIS Decaptcha native host: reads AIS captchas with TFLite models."""

__version__ = "0.1.0"
