/** An operator asked for something the conversation's state forbids; the message is shown to them as is. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly conversationNumber: number,
  ) {
    super(`Chat #${conversationNumber} is ${from}: it can't become ${to}.`);
    this.name = 'IllegalTransitionError';
  }
}

/** Someone else changed the conversation between our read and our write. */
export class ConcurrentChangeError extends Error {
  constructor(readonly conversationNumber: number) {
    super(`Chat #${conversationNumber} was changed by someone else just now; try again.`);
    this.name = 'ConcurrentChangeError';
  }
}
