/** Shared helpers of the flow tests: a recorder of events and state sequences, temp folders. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowObservation, TaskEvent, TaskState } from '../../src/flow/index.js';

export const T0 = Date.UTC(2024, 2, 1, 6, 0, 0);

export function recorder() {
  const seen: FlowObservation[] = [];
  const onEvent = (e: FlowObservation) => void seen.push(e);
  const taskEvents = (task: string) => seen.filter((e): e is TaskEvent => e.kind === 'task' && e.task === task);
  return {
    seen,
    onEvent,
    taskEvents,
    /** The states `task` went through, in order. */
    states: (task: string): TaskState[] => taskEvents(task).map((e) => e.to),
    /** [state, ms since T0] pairs of `task`. */
    timeline: (task: string, t0 = T0): Array<[TaskState, number]> => taskEvents(task).map((e) => [e.to, e.ts - t0]),
  };
}

export function tempDir(prefix = 'ibf-flow-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
