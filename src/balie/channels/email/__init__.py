"""The e-mail channel.

Parsing is pure (bytes in, ParsedMail out; no database, no network):
`parse.parse(raw)`, `classify.is_auto_reply(parsed)`, `classify.bounce(parsed)`,
`quotes.reply_text(...)`. See docs/email-parsing.md.
"""
