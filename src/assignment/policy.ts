export type AssignmentMode = 'round_robin' | 'least_loaded';

/** An on-duty operator as assignment sees them: how many open chats they own, and when they last got one. */
export interface Candidate {
  id: string;
  open: number;
  lastAssignedAt?: Date;
}

const longestWithoutOne = (a: Candidate, b: Candidate) => (a.lastAssignedAt?.getTime() ?? 0) - (b.lastAssignedAt?.getTime() ?? 0) || a.id.localeCompare(b.id);

/**
 * Who gets the next chat, among those below the cap: round robin takes turns (whoever was given a chat the
 * longest ago); least loaded takes whoever owns the fewest open chats, turns breaking ties. Undefined when
 * everyone has reached the cap.
 */
export function chooseOperator(mode: AssignmentMode, candidates: readonly Candidate[], maxOpen: number): Candidate | undefined {
  const free = candidates.filter((c) => c.open < maxOpen);
  const order = mode === 'least_loaded' ? (a: Candidate, b: Candidate) => a.open - b.open || longestWithoutOne(a, b) : longestWithoutOne;
  return [...free].sort(order)[0];
}
