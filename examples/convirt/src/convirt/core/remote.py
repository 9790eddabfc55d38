"""Remote host access over SSH."""

import paramiko


def open_channel(transport):
    channel = transport.open_session()
    channel.settimeout(None)
    return channel
