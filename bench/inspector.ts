/**
 * The JavaScript heap of a Worker under wrangler dev, read over its DevTools inspector (Chrome DevTools
 * Protocol on a WebSocket, 127.0.0.1 only), for the soak bench (issue #8).
 *
 * workerd's RSS counts more than our code: the local R2 / D1 / KV simulators (SQLite), V8's heap
 * reservation, the allocator's free lists. What our Worker keeps alive is the isolate's heap after a full
 * garbage collection. workerd's inspector does not answer `HeapProfiler.collectGarbage`, but V8 collects
 * fully before every heap snapshot, so `heapAfterGc` takes one (about 6 MB of JSON here), keeps it on disk
 * when asked (to diff in Chrome DevTools' Memory tab) and then reads `Runtime.getHeapUsage`.
 */
import { createWriteStream } from 'node:fs';
import { WebSocket } from 'ws';

export interface HeapUsage {
  /** Bytes of live JavaScript objects after a full GC. */
  usedBytes: number;
  /** Bytes V8 has committed for the heap. */
  totalBytes: number;
  /** Bytes held by the embedder (workerd) for JavaScript objects. */
  embedderBytes: number;
}

export interface Inspector {
  /** A full GC (through a heap snapshot), then the heap usage; `saveTo` keeps the snapshot (.heapsnapshot). */
  heapAfterGc(saveTo?: string): Promise<HeapUsage>;
  close(): void;
}

/** Connects to the inspector at `inspectorUrl` (wrangler's `worker.inspectorUrl`, http://host:port/). */
export async function connectInspector(inspectorUrl: URL, timeoutMs = 60_000): Promise<Inspector> {
  const targets = (await (await fetch(new URL('/json', inspectorUrl))).json()) as Array<{ webSocketDebuggerUrl?: string }>;
  const wsUrl = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!wsUrl) throw new Error(`no debuggable Worker at ${inspectorUrl.href}json`);
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  let onChunk: ((chunk: string) => void) | undefined;
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; method?: string; params?: { chunk?: string }; result?: unknown; error?: { message: string } };
    if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') onChunk?.(msg.params!.chunk!);
    else if (msg.id !== undefined && waiting.has(msg.id)) {
      const w = waiting.get(msg.id)!;
      waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result);
    }
  });
  ws.on('close', () => {
    for (const w of waiting.values()) w.reject(new Error('inspector closed'));
    waiting.clear();
  });
  const call = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`inspector: ${method} took over ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('HeapProfiler.enable');
  return {
    async heapAfterGc(saveTo) {
      const out = saveTo ? createWriteStream(saveTo) : undefined;
      onChunk = out ? (c) => out.write(c) : () => {};
      try {
        await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      } finally {
        onChunk = undefined;
        if (out) await new Promise<void>((r) => out.end(r));
      }
      const u = await call<{ usedSize: number; totalSize: number; embedderHeapUsedSize?: number }>('Runtime.getHeapUsage');
      return { usedBytes: u.usedSize, totalBytes: u.totalSize, embedderBytes: u.embedderHeapUsedSize ?? 0 };
    },
    close: () => ws.close(),
  };
}
