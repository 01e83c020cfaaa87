"""The config stage: config/ and baseline/ loaded, validated and cross-checked, and the
settings with their environment overrides (the only place that reads the environment)."""

from .feeds import NO_LANGUAGE_PACK, FeedConfig, language_warnings
from .loader import Config, load_config
from .settings import SETTINGS, Setting, Settings, ensure_secret, load_settings
from .subscribers_file import add_subscriber, remove_subscriber, update_subscriber
from .values import parse_email, parse_language_tag, parse_time_of_day, parse_timezone, primary_language
from .watchlists import Watchlist

__all__ = [
    "NO_LANGUAGE_PACK",
    "SETTINGS",
    "Config",
    "FeedConfig",
    "Setting",
    "Settings",
    "Watchlist",
    "add_subscriber",
    "ensure_secret",
    "language_warnings",
    "load_config",
    "load_settings",
    "parse_email",
    "parse_time_of_day",
    "parse_timezone",
    "parse_language_tag",
    "primary_language",
    "remove_subscriber",
    "update_subscriber",
]
