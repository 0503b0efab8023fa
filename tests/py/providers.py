"""Drives each provider's official Python client through `gencost serve`.

    python3 providers.py PROVIDER SERVER_URL KEY

PROVIDER is openai, replicate, runway or elevenlabs; the client's base URL
is SERVER_URL/PROVIDER (as a studio would set it) and KEY goes in the
client's own key slot. Prints one JSON line of what the client saw.
"""

import json
import sys


def openai_runs(base, key):
    import openai

    client = openai.OpenAI(
        api_key=key,
        base_url=f"{base}/openai/v1",
        max_retries=0,
        default_headers={"x-gencost-client": "Acme", "x-gencost-project": "Summer Spot"},
    )
    raw = client.images.with_raw_response.generate(
        model="gpt-image-1", prompt="a lighthouse in fog", size="1024x1536", quality="high", n=3
    )
    generated = raw.parse()
    edited = client.images.edit(
        model="gpt-image-1-mini",
        image=("frame.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
        prompt="make it night",
        quality="low",
    )
    refused = None
    try:
        client.images.generate(model="gpt-image-1", prompt="something forbidden")
    except openai.BadRequestError as e:
        refused = {"status": e.status_code, "code": e.code}
    return {
        "request_id": raw.headers.get("x-request-id"),
        "images": len(generated.data),
        "output_tokens": generated.usage.output_tokens,
        "edit_output_tokens": edited.usage.output_tokens,
        "refused": refused,
    }


def replicate_runs(base, key):
    import replicate

    client = replicate.Client(api_token=key, base_url=f"{base}/replicate")
    outputs = client.run(
        "black-forest-labs/flux-schnell", input={"prompt": "a red kite", "num_outputs": 2}
    )
    started = client.predictions.create(
        version="acme/upscaler:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
        input={"image": "https://example.com/a.png", "scale": 2},
    )
    started.reload()
    failing = client.predictions.create(
        version="acme/upscaler:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
        input={"image": "https://example.com/fail.png"},
    )
    failing.wait()
    return {
        "outputs": len(outputs),
        "open": started.id,
        "open_status": started.status,
        "failed": failing.id,
        "failed_status": failing.status,
    }


def runway_runs(base, key):
    import runwayml

    client = runwayml.RunwayML(api_key=key, base_url=f"{base}/runway", max_retries=0)
    task = client.image_to_video.create(
        model="gen4_turbo",
        prompt_image="https://example.com/boat.png",
        prompt_text="a boat at dawn",
        ratio="1280:720",
        duration=5,
    )
    statuses = [client.tasks.retrieve(task.id).status for _ in range(2)]
    failing = client.text_to_image.create(
        model="gen4_image", prompt_text="fail on purpose", ratio="1280:720"
    )
    failed = [client.tasks.retrieve(failing.id).status for _ in range(2)]
    cancelled = client.image_to_video.create(
        model="gen4_turbo", prompt_image="https://example.com/b.png", ratio="1280:720", duration=10
    )
    client.tasks.delete(cancelled.id)
    return {
        "task": task.id,
        "statuses": statuses,
        "failed": failing.id,
        "failed_statuses": failed,
        "cancelled": cancelled.id,
    }


def elevenlabs_runs(base, key):
    from elevenlabs.client import ElevenLabs
    from elevenlabs.core.api_error import ApiError

    client = ElevenLabs(api_key=key, base_url=f"{base}/elevenlabs")
    with client.text_to_speech.with_raw_response.convert(
        "JBFqnCBsd6RMkjVDRZzb", text="Hello from Örebro Film", model_id="eleven_multilingual_v2"
    ) as response:
        cost = response.headers.get("character-cost")
        audio = b"".join(response.data)
    sound = b"".join(client.text_to_sound_effects.convert(text="rain on a tin roof"))
    failed = None
    try:
        b"".join(client.text_to_speech.convert("JBFqnCBsd6RMkjVDRZzb", text="boom"))
    except ApiError as e:
        failed = e.status_code
    return {"audio": len(audio), "character_cost": cost, "sound": len(sound), "failed": failed}


RUNS = {
    "openai": openai_runs,
    "replicate": replicate_runs,
    "runway": runway_runs,
    "elevenlabs": elevenlabs_runs,
}

if __name__ == "__main__":
    provider, base, key = sys.argv[1:4]
    print(json.dumps(RUNS[provider](base.rstrip("/"), key)))
