import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { OPERATOR_ROLES } from '../../domain.js';

const operatorSchema = new Schema(
  {
    telegramUserId: { type: Number, required: true },
    name: { type: String, required: true },
    username: String,
    role: { type: String, enum: OPERATOR_ROLES, default: 'operator' },
    onDuty: { type: Boolean, default: false },
    active: { type: Boolean, default: true },
    /** When auto-assignment last gave them a chat: round robin picks whoever waited longest. */
    lastAssignedAt: Date,
  },
  { timestamps: true },
);
operatorSchema.index({ telegramUserId: 1 }, { unique: true });
operatorSchema.index({ username: 1 });

export type Operator = InferSchemaType<typeof operatorSchema>;
export type OperatorDoc = HydratedDocument<Operator>;
export const OperatorModel = model('Operator', operatorSchema);
