import { z } from 'zod';
import { lenient } from './inbound-events.js';

/**
 * The parts of VK's events the channel reads (the Callback API and Bots Long Poll deliver the same objects).
 * A message must be identifiable (id, peer, author, date); a detail of the wrong type is dropped rather than
 * the customer's message (see `lenient`).
 */
export const vkEventSchema = z.object({
  type: z.string(),
  object: z.unknown().optional(),
  group_id: lenient(z.coerce.number()),
  event_id: lenient(z.string()),
  secret: lenient(z.string()),
});

export type VkEvent = z.output<typeof vkEventSchema>;

const sizeSchema = z.object({ url: lenient(z.string()), src: lenient(z.string()), width: lenient(z.number()), height: lenient(z.number()) });
const sizesSchema = lenient(z.array(sizeSchema.catch({ url: undefined, src: undefined, width: undefined, height: undefined })));

const attachmentSchema = z
  .object({
    type: z.string(),
    photo: lenient(z.object({ id: z.number(), owner_id: z.number(), sizes: sizesSchema })),
    doc: lenient(z.object({ id: z.number(), owner_id: z.number(), title: lenient(z.string()), ext: lenient(z.string()), size: lenient(z.number()), url: lenient(z.string()) })),
    audio_message: lenient(z.object({ id: z.number(), owner_id: z.number(), duration: lenient(z.number()), link_ogg: lenient(z.string()), link_mp3: lenient(z.string()) })),
    sticker: lenient(z.object({ sticker_id: z.number(), product_id: lenient(z.number()), images: sizesSchema, images_with_background: sizesSchema })),
  })
  // An attachment we can't read still shows up in the text as "[unreadable]".
  .catch({ type: 'unreadable', photo: undefined, doc: undefined, audio_message: undefined, sticker: undefined });

export const vkMessageSchema = z.object({
  id: z.number(),
  conversation_message_id: lenient(z.number()),
  peer_id: z.number(),
  from_id: z.number(),
  date: z.number(),
  text: lenient(z.string()),
  out: lenient(z.number()),
  /** When the message was last edited (message_edit events). */
  update_time: lenient(z.number()),
  attachments: lenient(z.array(attachmentSchema)),
  geo: lenient(z.object({ coordinates: lenient(z.object({ latitude: z.coerce.number(), longitude: z.coerce.number() })) })),
  reply_message: lenient(z.object({ id: lenient(z.number()) })),
});

export type VkMessage = z.output<typeof vkMessageSchema>;
export type VkAttachment = z.output<typeof attachmentSchema>;
export type VkSize = z.output<typeof sizeSchema>;
