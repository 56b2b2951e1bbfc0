"""Scenario presets (TOML) and example order books, shipped as package data."""
