import { operatorText } from '../i18n/operator-texts.js';

/** An operator asked for something the conversation's state forbids; the message is shown to them as is. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly conversationNumber: number,
  ) {
    super(operatorText('conversations.cannotBecome', { number: conversationNumber, from: operatorText(`conversations.state.${from}`), to: operatorText(`conversations.state.${to}`) }));
    this.name = 'IllegalTransitionError';
  }
}

/** Someone else changed the conversation between our read and our write. */
export class ConcurrentChangeError extends Error {
  constructor(readonly conversationNumber: number) {
    super(operatorText('conversations.changedMeanwhile', { number: conversationNumber }));
    this.name = 'ConcurrentChangeError';
  }
}
