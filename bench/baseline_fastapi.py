"""The receiver a user would otherwise write: FastAPI + pydantic + aiokafka, awaiting the broker's ack per request.

Reads the broker address and topic from BENCH_BOOTSTRAP and BENCH_TOPIC.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from pydantic import BaseModel

BOOTSTRAP = os.environ.get("BENCH_BOOTSTRAP", "127.0.0.1:9092")
TOPIC = os.environ.get("BENCH_TOPIC", "bench.fastapi.v1")


class Booking(BaseModel):
    event_id: str
    event_type: str
    booking_id: str | None = None
    start_date_time_gmt: int | None = None
    end_date_time_gmt: int | None = None
    customer_name: str | None = None
    email: str | None = None
    service_names: list[str] = []


class Envelope(BaseModel):
    dataObject: Booking
    type: str
    status: bool | None = None


producer: AIOKafkaProducer | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global producer
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    yield
    await producer.stop()


app = FastAPI(lifespan=lifespan)


@app.post("/webhooks/{provider}", status_code=202)
async def receive(provider: str, envelope: Envelope) -> dict[str, Any]:
    assert producer is not None
    subject = f"{provider}:{envelope.dataObject.booking_id}"
    await producer.send_and_wait(TOPIC, envelope.model_dump_json().encode(), key=subject.encode())
    return {"accepted": True, "subject": subject}
