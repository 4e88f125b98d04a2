"""Events the inventory publishes, and who may listen to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol


class EventKind(StrEnum):
    RECEIVED = "received"
    RESERVED = "reserved"
    SHIPPED = "shipped"
    LOW_STOCK = "low_stock"


@dataclass(frozen=True)
class StockEvent:
    kind: EventKind
    sku: str
    warehouse: str
    quantity: int
    at: datetime

    @classmethod
    def now(cls, kind: EventKind, sku: str, warehouse: str, quantity: int) -> StockEvent:
        return cls(kind, sku, warehouse, quantity, datetime.now(UTC))


class Listener(Protocol):
    def handle(self, event: StockEvent) -> None: ...


class EventBus:
    """Delivers each event to every listener registered for its kind."""

    def __init__(self) -> None:
        self._listeners: dict[EventKind, list[Listener]] = {}

    def subscribe(self, kind: EventKind, listener: Listener) -> None:
        self._listeners.setdefault(kind, []).append(listener)

    def publish(self, event: StockEvent) -> int:
        """Deliver `event`; returns how many listeners got it."""
        listeners = self._listeners.get(event.kind, [])
        for listener in listeners:
            listener.handle(event)
        return len(listeners)
