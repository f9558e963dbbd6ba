import { z } from 'zod';
import { lenient } from './inbound-events.js';

/**
 * The parts of the WhatsApp Cloud API's webhook the channel reads: entry → changes → value, whose `messages`
 * and `statuses` are read one by one. A message must be identifiable (from, id, type); a detail of the wrong
 * type is dropped rather than the customer's message (see `lenient`).
 */
export const cloudEntrySchema = z.object({ changes: z.array(z.unknown()).optional() });

export const cloudChangeSchema = z.object({ field: z.string(), value: z.unknown().optional() });

export const cloudValueSchema = z.object({
  metadata: lenient(z.object({ phone_number_id: lenient(z.string()) })),
  contacts: lenient(z.array(z.object({ wa_id: lenient(z.string()), profile: lenient(z.object({ name: lenient(z.string()) })) }).catch({ wa_id: undefined, profile: undefined }))),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
});

const graphErrorSchema = z.object({
  message: lenient(z.string()),
  type: lenient(z.string()),
  code: lenient(z.number()),
  error_subcode: lenient(z.number()),
  error_data: lenient(z.object({ details: lenient(z.string()) })),
  title: lenient(z.string()),
});

const mediaSchema = lenient(
  z.object({
    id: z.string(),
    mime_type: lenient(z.string()),
    caption: lenient(z.string()),
    filename: lenient(z.string()),
    voice: lenient(z.boolean()),
    animated: lenient(z.boolean()),
  }),
);

export type CloudMedia = NonNullable<z.output<typeof mediaSchema>>;

const choiceSchema = lenient(z.object({ id: z.string(), title: z.string(), description: lenient(z.string()) }));

export const cloudMessageSchema = z.object({
  from: z.string().min(1),
  id: z.string().min(1),
  timestamp: lenient(z.string()),
  type: z.string(),
  text: lenient(z.object({ body: z.string() })),
  image: mediaSchema,
  document: mediaSchema,
  audio: mediaSchema,
  voice: mediaSchema,
  video: mediaSchema,
  sticker: mediaSchema,
  location: lenient(z.object({ latitude: z.number(), longitude: z.number(), name: lenient(z.string()), address: lenient(z.string()) })),
  contacts: lenient(
    z.array(
      z.object({
        name: lenient(z.object({ formatted_name: lenient(z.string()) })),
        phones: lenient(z.array(z.object({ phone: lenient(z.string()), wa_id: lenient(z.string()) }).catch({ phone: undefined, wa_id: undefined }))),
      }),
    ),
  ),
  interactive: lenient(z.object({ type: z.string(), button_reply: choiceSchema, list_reply: choiceSchema })),
  button: lenient(z.object({ payload: lenient(z.string()), text: lenient(z.string()) })),
  reaction: lenient(z.object({ message_id: lenient(z.string()), emoji: lenient(z.string()) })),
  context: lenient(z.object({ from: lenient(z.string()), id: lenient(z.string()) })),
  /** `type: edit` / `type: revoke` (numbers on the WhatsApp Business app, "coexistence"): the customer changed an earlier message. */
  edit: lenient(z.object({ original_message_id: z.string().min(1), message: lenient(z.object({ text: lenient(z.object({ body: z.string() })), caption: lenient(z.string()) })) })),
  revoke: lenient(z.object({ original_message_id: z.string().min(1) })),
});

export type CloudMessage = z.output<typeof cloudMessageSchema>;

export const cloudStatusSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  recipient_id: lenient(z.string()),
  errors: lenient(z.array(graphErrorSchema)),
});
