/**
 * Resumable streams for the HTTP downstream: the latest events of one session,
 * so a client whose SSE stream broke (a laptop lid, a flaky proxy) reconnects
 * with `Last-Event-ID` and gets what it missed, a long call's result included.
 * Bounded by count and by size; the oldest events go first, and an id that has
 * gone is refused (the SDK answers 400) rather than silently replaying nothing.
 */
import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface EventStoreLimits {
  maxEvents: number;
  maxBytes: number;
}

export const DEFAULT_EVENT_STORE_LIMITS: EventStoreLimits = { maxEvents: 1000, maxBytes: 16 * 1024 * 1024 };

interface Stored {
  stream: string;
  message: JSONRPCMessage;
  bytes: number;
}

export function boundedEventStore(limits: EventStoreLimits = DEFAULT_EVENT_STORE_LIMITS): EventStore {
  // A Map iterates in insertion order: oldest first.
  const events = new Map<string, Stored>();
  let bytes = 0;
  let seq = 0;
  return {
    async storeEvent(stream, message) {
      const id = `${stream}.${++seq}`;
      const size = JSON.stringify(message).length;
      events.set(id, { stream, message, bytes: size });
      bytes += size;
      for (const [old, e] of events) {
        if (old === id || (events.size <= limits.maxEvents && bytes <= limits.maxBytes)) break;
        events.delete(old);
        bytes -= e.bytes;
      }
      return id;
    },
    async getStreamIdForEventId(id) {
      return events.get(id)?.stream;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const from = events.get(lastEventId);
      if (!from) throw new Error(`event ${lastEventId} is unknown or no longer kept`);
      let after = false;
      for (const [id, e] of events) {
        // Priming events ({}) only carry an id for the client to resume from.
        if (after && e.stream === from.stream && Object.keys(e.message).length > 0) await send(id, e.message);
        if (id === lastEventId) after = true;
      }
      return from.stream;
    },
  };
}
