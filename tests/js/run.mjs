// Runs fal's official JavaScript client through gencost serve's fal proxy:
// `node run.mjs PROXY_URL subscribe|stream`; prints what the client got as
// one line of JSON.
import { fal } from "@fal-ai/client";

const [proxyUrl, mode] = process.argv.slice(2);
fal.config({ proxyUrl: { url: proxyUrl, when: "always" } });

const input = { prompt: "a lighthouse in fog", image_size: "landscape_4_3", num_images: 1 };

if (mode === "subscribe") {
  const updates = [];
  const result = await fal.subscribe("fal-ai/flux/dev", {
    input,
    pollInterval: 50,
    headers: { "x-gencost-client": "Acme", "x-gencost-project": "Summer Spot" },
    onQueueUpdate: (update) => updates.push(update.status),
  });
  console.log(JSON.stringify({ requestId: result.requestId, data: result.data, updates }));
} else if (mode === "stream") {
  const stream = await fal.stream("fal-ai/flux/dev", { input });
  const events = [];
  for await (const event of stream) {
    events.push(event);
  }
  const done = await stream.done();
  console.log(JSON.stringify({ requestId: stream.requestId ?? null, events, done }));
} else {
  console.error(`unknown mode '${mode}': subscribe or stream`);
  process.exit(2);
}
