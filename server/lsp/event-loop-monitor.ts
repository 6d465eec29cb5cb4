import fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Message, MessageReader, MessageWriter } from 'vscode-jsonrpc';

/** How often the stall detector looks, in ms: a stall shows up as a late tick. */
const TICK_MS = 50;
/** A tick this much late (ms) is logged as a stall, with what the process was serving. */
export const STALL_LOG_MS = 250;
/** Requests remembered per connection while unanswered; a client that never reads its answers cannot grow this. */
const IN_FLIGHT_LIMIT = 256;

/** Event-loop delay since the process started, in ms (from Node's `perf_hooks.monitorEventLoopDelay`). */
export interface EventLoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Stalls of at least STALL_LOG_MS seen (each one is logged with the requests being served). */
  stalls: number;
}

interface Received {
  method: string;
  client: string;
  at: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux whatever the kernel's HZ). */
const USER_HZ = 100;
const LOOP_THREAD_STAT = `/proc/self/task/${process.pid}/stat`;

/**
 * CPU time (ms) the event loop's own thread has used: on Linux from /proc (the main thread's id is the pid; 10 ms
 * resolution), so the worker threads that count tokens and scan files — working while the loop is free — are
 * not counted as blocking it. Elsewhere the whole process's (`process.cpuUsage`), as `where` says.
 */
export function loopThreadCpuMs(): { ms: number; where: string } {
  try {
    const fields = fs.readFileSync(LOOP_THREAD_STAT, 'latin1');
    const [utime, stime] = fields.slice(fields.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
    return { ms: ((utime + stime) * 1000) / USER_HZ, where: "on the event loop's thread" };
  } catch {
    const usage = process.cpuUsage();
    return { ms: (usage.user + usage.system) / 1000, where: 'in this process' };
  }
}

/**
 * Measures how late the shared process's event loop runs, and names the requests in flight when it stalls: every
 * editor of the user waits while one request holds the loop, so a stall is logged with its likely cause.
 */
export class EventLoopMonitor {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly connections = new Set<{ inFlight: Map<string | number, Received>; last: Received | null }>();
  private timer: NodeJS.Timeout | null = null;
  private lastTick = performance.now();
  private lastCpu = loopThreadCpuMs();
  private stalls = 0;

  constructor(private readonly log: (line: string) => void, private readonly stallLogMs = STALL_LOG_MS) {}

  start(): void {
    this.histogram.enable();
    this.lastTick = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.histogram.disable();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  delay(): EventLoopDelay {
    const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e4) / 100;
    // An empty histogram reports its maximum as a huge sentinel.
    const empty = this.histogram.count === 0;
    return {
      p50Ms: empty ? 0 : ms(this.histogram.percentile(50)),
      p99Ms: empty ? 0 : ms(this.histogram.percentile(99)),
      maxMs: empty ? 0 : ms(this.histogram.max),
      stalls: this.stalls,
    };
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTick - TICK_MS;
    const cpu = loopThreadCpuMs();
    const cpuMs = Math.round(cpu.ms - this.lastCpu.ms);
    this.lastTick = now;
    this.lastCpu = cpu;
    if (late < this.stallLogMs) return;
    this.stalls++;
    // CPU time tells blocking work (as much CPU as wall time) from a machine too busy to run this process at all.
    this.log(`event loop stalled for ${Math.round(late)} ms (${cpuMs} ms of CPU ${cpu.where}); serving: ${this.describeServing(now - late - TICK_MS, now)}`);
  }

  /** Requests unanswered at `now`, plus each connection's last message if it arrived during the stall. */
  private describeServing(stallStart: number, now: number): string {
    const parts: string[] = [];
    for (const connection of this.connections) {
      for (const request of connection.inFlight.values()) parts.push(`${request.method} from ${request.client} (${Math.round(now - request.at)} ms ago)`);
      const last = connection.last;
      if (last && last.at >= stallStart - TICK_MS && ![...connection.inFlight.values()].includes(last)) {
        parts.push(`${last.method} from ${last.client} (${Math.round(now - last.at)} ms ago, answered)`);
      }
    }
    return parts.length ? parts.slice(0, 10).join(', ') : 'no client request (background work: indexing, an agent session)';
  }

  /**
   * Wraps one connection's reader and writer so the monitor knows which requests it is serving; `client` names
   * the connection in the log (it is read at each message, so it may change after `initialize`).
   */
  track(reader: MessageReader, writer: MessageWriter, client: () => string): { reader: MessageReader; writer: MessageWriter } {
    const state = { inFlight: new Map<string | number, Received>(), last: null as Received | null };
    this.connections.add(state);
    const forget = () => this.connections.delete(state);
    const trackedReader: MessageReader = {
      get onError() { return reader.onError; },
      get onClose() { return reader.onClose; },
      get onPartialMessage() { return reader.onPartialMessage; },
      listen: (callback) => reader.listen((message: Message) => {
        const { method, id } = message as { method?: unknown; id?: unknown };
        if (typeof method === 'string') {
          const received = { method, client: client(), at: performance.now() };
          state.last = received;
          if ((typeof id === 'number' || typeof id === 'string') && state.inFlight.size < IN_FLIGHT_LIMIT) state.inFlight.set(id, received);
        }
        callback(message);
      }),
      dispose: () => {
        forget();
        reader.dispose();
      },
    };
    const trackedWriter: MessageWriter = {
      get onError() { return writer.onError; },
      get onClose() { return writer.onClose; },
      write: (message: Message) => {
        const { method, id } = message as { method?: unknown; id?: unknown };
        if (method === undefined && (typeof id === 'number' || typeof id === 'string')) state.inFlight.delete(id);
        return writer.write(message);
      },
      end: () => writer.end(),
      dispose: () => {
        forget();
        writer.dispose();
      },
    };
    reader.onClose(forget);
    return { reader: trackedReader, writer: trackedWriter };
  }
}
