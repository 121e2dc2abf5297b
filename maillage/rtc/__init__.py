"""The network side of the video room: ICE servers (STUN/TURN) and their credentials.

The room itself (pages, signalling, room.js) is ``maillage.teleconsult``; the
browser's adaptation to a weak line is ``front/static/maillage/js/room_network.js``.
"""
