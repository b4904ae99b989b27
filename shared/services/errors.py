"""Errors a service raises when a request cannot be carried out. Nothing was changed."""


class ServiceError(Exception):
    """Base: the message is specific and safe to show to the person who asked."""


class NotFound(ServiceError):
    pass


class InvalidRequest(ServiceError):
    pass


class Conflict(ServiceError):
    """The request contradicts what is already recorded (e.g. a reused payment reference)."""


class Forbidden(ServiceError):
    """The person asking is not allowed to do this (the view's permission check is the
    first line; services that change other people's access check again)."""
