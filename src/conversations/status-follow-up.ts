import { requestConsole } from '../console/actions.js';
import { onTransition } from './lifecycle.js';

/** Every status change is shown in the console (topic renamed, closed or reopened). */
export function showStatusChangesInConsole(): () => void {
  return onTransition(async (conversation) => {
    await requestConsole({ action: 'conversationChanged', conversation: conversation._id });
  });
}
