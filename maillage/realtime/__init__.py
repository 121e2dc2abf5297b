"""Real time: events per user with a sequence number, pushed over a WebSocket.

``events.publish`` stores an event (gapless ``seq`` per user) and sends it
through the channel layer after the commit; ``consumers.EventsConsumer``
authenticates the socket (session with its second factor, or a bearer API
token), replays what a reconnecting client missed and forwards the rest.
Events carry identifiers and counts only: any detail is asked of the policy
by the consumer for the receiver at the moment it is sent.
"""
