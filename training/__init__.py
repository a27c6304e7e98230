"""Rebuilds the shipped models from labeled captcha images."""
