"""The Slack bot: Events API in, Web API out (docs/slack.md)."""
