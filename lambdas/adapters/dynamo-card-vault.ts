/**
 * The card vault on its own DynamoDB table (CARD_VAULT_TABLE_NAME, encrypted with its own KMS key;
 * lib/stateful-stack.ts). Items:
 * - `PM#<pm id>` / `PM`: the payment method: brand, last4, expiry, fingerprint, status, customer,
 *   and the envelope: `wrappedKey` (the per-payment-method data key, wrapped by the vault key),
 *   `numberCiphertext` and `cvcCiphertext` (AES-256-GCM under the data key, the payment method id
 *   and merchant bound as additional data). Destroying `wrappedKey` makes the ciphertexts
 *   unreadable forever (crypto-shredding); the ciphertexts are removed in the same write.
 * - `CUSTOMER#<cus id>` / `PM#<pm id>`: the customer's saved payment methods, read with a strongly
 *   consistent Query (a GSI would be eventually consistent and could miss a card being shredded).
 * Every write is conditional. Attaching checks, in the same transaction, that the customer in the
 * main table is still active, so DELETE /v1/customers (which marks the customer deleted first)
 * cannot miss a card attached concurrently.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, BatchGetCommand, type DynamoDBDocumentClient } from './dynamo-client';
import type { CardBrand } from '../domain/card';
import { issuingCountryOf } from '../domain/card-country';
import { generatePaymentMethodId } from '../domain/ids';
import { SensitiveCard, type PaymentMethod, type PaymentMethodStatus } from '../domain/payment-method';
import { NotFoundError, PaymentMethodUnusableError } from '../errors';
import type { CardVault, RevealInput, SavedPaymentMethods, TokenizeCardInput, VaultKeyring } from '../ports/card-vault';
import { customerKey } from './dynamo-keys';
import { isConditionalCheckFailure, queryItems, transactWrite, translateStoreError, withoutUndefined } from './dynamo-support';

export const paymentMethodKey = (paymentMethodId: string) => ({ pk: `PM#${paymentMethodId}`, sk: 'PM' });
export const savedPaymentMethodKey = (customerId: string, paymentMethodId: string) => ({
  pk: `CUSTOMER#${customerId}`,
  sk: `PM#${paymentMethodId}`,
});

/** Attributes that hold (or unlock) card data: removed together when a payment method is detached or shredded. */
const CARD_DATA_ATTRIBUTES = 'wrappedKey, numberCiphertext, cvcCiphertext';

/** How many fingerprint characters (base64url of the HMAC): 16 = 96 bits. */
const FINGERPRINT_LENGTH = 16;

export interface DynamoCardVaultOptions {
  readonly documentClient: DynamoDBDocumentClient;
  /** The vault's own table. */
  readonly vaultTableName: string;
  /** The main table (customers live there; attach checks the customer in the same transaction). */
  readonly mainTableName: string;
  readonly keyring: VaultKeyring;
}

export class DynamoCardVault implements CardVault, SavedPaymentMethods {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly mainTable: string;
  private readonly keyring: VaultKeyring;

  constructor(options: DynamoCardVaultOptions) {
    this.client = options.documentClient;
    this.table = options.vaultTableName;
    this.mainTable = options.mainTableName;
    this.keyring = options.keyring;
  }

  async tokenizeCard(input: TokenizeCardInput): Promise<PaymentMethod> {
    const id = generatePaymentMethodId();
    const { card, merchantId } = input;
    const fingerprint = (await this.keyring.mac(`card-fingerprint:${merchantId}:${card.number}`))
      .toString('base64url')
      .slice(0, FINGERPRINT_LENGTH);
    const country = issuingCountryOf(card.number); // not secret: routing's card_country
    const dataKey = await this.keyring.generateDataKey(encryptionContext(id, merchantId));
    let numberCiphertext: string;
    let cvcCiphertext: string | undefined;
    try {
      numberCiphertext = seal(dataKey.plaintext, card.number, `${id}|${merchantId}|number`);
      cvcCiphertext = card.cvc !== undefined ? seal(dataKey.plaintext, card.cvc, `${id}|${merchantId}|cvc`) : undefined;
    } finally {
      dataKey.plaintext.fill(0);
    }
    const paymentMethod: PaymentMethod = {
      id,
      merchantId,
      type: 'card',
      card: {
        brand: card.brand,
        last4: card.last4,
        expMonth: card.expMonth,
        expYear: card.expYear,
        fingerprint,
        ...(country !== undefined ? { country } : {}),
      },
      status: 'active',
      ...(input.checkoutId !== undefined ? { checkoutId: input.checkoutId } : {}),
      cvcAvailable: cvcCiphertext !== undefined,
      createdAt: input.now.toISOString(),
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: withoutUndefined({
            ...paymentMethodKey(id),
            entity: 'payment_method',
            id,
            merchantId,
            type: 'card',
            brand: card.brand,
            last4: card.last4,
            expMonth: card.expMonth,
            expYear: card.expYear,
            fingerprint,
            country,
            status: 'active',
            checkoutId: input.checkoutId,
            createdAt: paymentMethod.createdAt,
            wrappedKey: dataKey.wrapped,
            numberCiphertext,
            cvcCiphertext,
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      translateStoreError(error);
    }
    return paymentMethod;
  }

  async getPaymentMethod(merchantId: string, paymentMethodId: string): Promise<PaymentMethod | undefined> {
    const item = await this.readItem(paymentMethodId);
    return item !== undefined && item.merchantId === merchantId ? toPaymentMethod(item) : undefined;
  }

  async revealForAuthorization(input: RevealInput): Promise<{ paymentMethod: PaymentMethod; card: SensitiveCard }> {
    let item: Record<string, unknown>;
    try {
      const answer = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: paymentMethodKey(input.paymentMethodId),
          UpdateExpression: 'SET lastRevealedAt = :now, lastRevealPurpose = :purpose ADD revealCount :one',
          ConditionExpression:
            'attribute_exists(pk) AND merchantId = :merchant AND #status = :active AND attribute_exists(wrappedKey)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':now': input.now.toISOString(),
            ':purpose': input.purpose,
            ':one': 1,
            ':merchant': input.merchantId,
            ':active': 'active',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      item = answer.Attributes ?? {};
    } catch (error) {
      if (!isConditionalCheckFailure(error)) translateStoreError(error);
      const current = await this.getPaymentMethod(input.merchantId, input.paymentMethodId);
      if (current === undefined) throw notFound(input.paymentMethodId);
      throw unusable(current.status);
    }
    const id = input.paymentMethodId;
    const dataKey = await this.keyring.unwrapDataKey(String(item.wrappedKey), encryptionContext(id, input.merchantId));
    try {
      const number = open(dataKey, String(item.numberCiphertext), `${id}|${input.merchantId}|number`);
      const cvc =
        typeof item.cvcCiphertext === 'string' ? open(dataKey, item.cvcCiphertext, `${id}|${input.merchantId}|cvc`) : undefined;
      return {
        paymentMethod: toPaymentMethod(item),
        card: new SensitiveCard(id, number, Number(item.expMonth), Number(item.expYear), cvc),
      };
    } finally {
      dataKey.fill(0);
    }
  }

  async destroyCvc(merchantId: string, paymentMethodId: string, now: Date, networkTransactionId?: string): Promise<void> {
    // The first CIT's network transaction id is kept (if_not_exists: a later answer never replaces it).
    const keepNtid =
      networkTransactionId !== undefined ? ', networkTransactionId = if_not_exists(networkTransactionId, :ntid)' : '';
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: paymentMethodKey(paymentMethodId),
          UpdateExpression: `REMOVE cvcCiphertext SET cvcDestroyedAt = if_not_exists(cvcDestroyedAt, :now)${keepNtid}`,
          ConditionExpression: 'attribute_exists(pk) AND merchantId = :merchant',
          ExpressionAttributeValues: {
            ':now': now.toISOString(),
            ':merchant': merchantId,
            ...(networkTransactionId !== undefined ? { ':ntid': networkTransactionId } : {}),
          },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) throw notFound(paymentMethodId);
      translateStoreError(error);
    }
  }

  async attachToCustomer(merchantId: string, paymentMethodId: string, customerId: string, now: Date): Promise<PaymentMethod> {
    const result = await transactWrite(this.client, {
      TransactItems: [
        {
          ConditionCheck: {
            TableName: this.mainTable,
            Key: customerKey(customerId),
            ConditionExpression: 'attribute_exists(pk) AND merchantId = :merchant AND #status = :active',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':merchant': merchantId, ':active': 'active' },
          },
        },
        {
          Update: {
            TableName: this.table,
            Key: paymentMethodKey(paymentMethodId),
            UpdateExpression: 'SET customerId = :customer, attachedAt = if_not_exists(attachedAt, :now)',
            ConditionExpression:
              'attribute_exists(pk) AND merchantId = :merchant AND #status = :active AND (attribute_not_exists(customerId) OR customerId = :customer)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':customer': customerId,
              ':now': now.toISOString(),
              ':merchant': merchantId,
              ':active': 'active',
            },
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: {
              ...savedPaymentMethodKey(customerId, paymentMethodId),
              entity: 'saved_payment_method',
              merchantId,
              paymentMethodId,
              customerId,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR paymentMethodId = :pm',
            ExpressionAttributeValues: { ':pm': paymentMethodId },
          },
        },
      ],
    });
    const current = await this.getPaymentMethod(merchantId, paymentMethodId);
    if (current === undefined) throw notFound(paymentMethodId);
    if (result.ok) return current;
    if (result.codes[0] === 'ConditionalCheckFailed') throw new NotFoundError(`No customer ${customerId}`, { param: 'customer' });
    if (current.status !== 'active') throw unusable(current.status);
    throw new PaymentMethodUnusableError('The payment method is already saved on another customer', {
      code: 'payment_method_customer_mismatch',
      param: 'payment_method',
    });
  }

  async listCustomerPaymentMethods(merchantId: string, customerId: string): Promise<PaymentMethod[]> {
    const items = await this.readSavedItems(customerId);
    return items
      .filter((item) => item.merchantId === merchantId && item.customerId === customerId && item.status === 'active')
      .map(toPaymentMethod)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async detachPaymentMethod(merchantId: string, paymentMethodId: string, now: Date): Promise<PaymentMethod> {
    // Re-read and decide again when a concurrent attach/detach/shred moved it between read and write.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const current = await this.getPaymentMethod(merchantId, paymentMethodId);
      if (current === undefined) throw notFound(paymentMethodId);
      if (current.status === 'detached') return current;
      if (current.status === 'shredded') throw unusable('shredded');
      if (current.customerId === undefined) {
        throw new PaymentMethodUnusableError('The payment method is not saved on a customer', {
          code: 'payment_method_not_attached',
          param: 'id',
        });
      }
      const result = await transactWrite(this.client, {
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: paymentMethodKey(paymentMethodId),
              UpdateExpression: `SET #status = :detached, detachedAt = :now, detachedFromCustomerId = customerId REMOVE customerId, ${CARD_DATA_ATTRIBUTES}`,
              ConditionExpression: 'merchantId = :merchant AND #status = :active AND customerId = :customer',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':detached': 'detached',
                ':now': now.toISOString(),
                ':merchant': merchantId,
                ':active': 'active',
                ':customer': current.customerId,
              },
            },
          },
          {
            Delete: {
              TableName: this.table,
              Key: savedPaymentMethodKey(current.customerId, paymentMethodId),
              ConditionExpression: 'attribute_not_exists(pk) OR paymentMethodId = :pm',
              ExpressionAttributeValues: { ':pm': paymentMethodId },
            },
          },
        ],
      });
      if (result.ok) {
        const detached = await this.getPaymentMethod(merchantId, paymentMethodId);
        if (detached !== undefined) return detached;
      }
    }
    throw new PaymentMethodUnusableError('The payment method changed concurrently; retry', {
      code: 'concurrent_modification',
      param: 'id',
    });
  }

  async shredCustomerPaymentMethods(merchantId: string, customerId: string, now: Date): Promise<number> {
    const saved = await queryItems(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `CUSTOMER#${customerId}`, ':prefix': 'PM#' },
      ConsistentRead: true,
    });
    let shredded = 0;
    for (const entry of saved) {
      if (entry.merchantId !== merchantId) continue;
      const paymentMethodId = String(entry.paymentMethodId);
      const result = await transactWrite(this.client, {
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: paymentMethodKey(paymentMethodId),
              UpdateExpression: `SET #status = :shredded, shreddedAt = :now REMOVE ${CARD_DATA_ATTRIBUTES}`,
              ConditionExpression: 'merchantId = :merchant AND customerId = :customer AND #status = :active',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':shredded': 'shredded',
                ':now': now.toISOString(),
                ':merchant': merchantId,
                ':customer': customerId,
                ':active': 'active',
              },
            },
          },
          {
            Delete: {
              TableName: this.table,
              Key: savedPaymentMethodKey(customerId, paymentMethodId),
              ConditionExpression: 'paymentMethodId = :pm',
              ExpressionAttributeValues: { ':pm': paymentMethodId },
            },
          },
        ],
      });
      if (result.ok) {
        shredded += 1;
        continue;
      }
      // Already shredded or detached by a concurrent request: its card data is gone; drop the stale index row.
      await this.deleteSavedEntry(customerId, paymentMethodId);
    }
    return shredded;
  }

  private async deleteSavedEntry(customerId: string, paymentMethodId: string): Promise<void> {
    const current = await this.readItem(paymentMethodId);
    if (current !== undefined && current.status === 'active' && current.customerId === customerId) return; // still live: not ours to drop
    await transactWrite(this.client, {
      TransactItems: [
        {
          Delete: {
            TableName: this.table,
            Key: savedPaymentMethodKey(customerId, paymentMethodId),
            ConditionExpression: 'attribute_not_exists(pk) OR paymentMethodId = :pm',
            ExpressionAttributeValues: { ':pm': paymentMethodId },
          },
        },
      ],
    });
  }

  private async readItem(paymentMethodId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const answer = await this.client.send(
        new GetCommand({ TableName: this.table, Key: paymentMethodKey(paymentMethodId), ConsistentRead: true }),
      );
      return answer.Item;
    } catch (error) {
      return translateStoreError(error);
    }
  }

  private async readSavedItems(customerId: string): Promise<Record<string, unknown>[]> {
    const saved = await queryItems(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `CUSTOMER#${customerId}`, ':prefix': 'PM#' },
      ConsistentRead: true,
    });
    const items: Record<string, unknown>[] = [];
    for (let start = 0; start < saved.length; start += 100) {
      const keys = saved.slice(start, start + 100).map((entry) => paymentMethodKey(String(entry.paymentMethodId)));
      try {
        let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
          [this.table]: { Keys: keys, ConsistentRead: true },
        };
        while (request !== undefined && Object.keys(request).length > 0) {
          const answer = await this.client.send(new BatchGetCommand({ RequestItems: request }));
          items.push(...(answer.Responses?.[this.table] ?? []));
          request = answer.UnprocessedKeys as typeof request;
        }
      } catch (error) {
        translateStoreError(error);
      }
    }
    return items;
  }
}

function encryptionContext(paymentMethodId: string, merchantId: string): Record<string, string> {
  return { purpose: 'paystep-card-vault', payment_method: paymentMethodId, merchant: merchantId };
}

/** AES-256-GCM under the data key, `aad` binding the ciphertext to its payment method, merchant and field. */
function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

function open(key: Buffer, sealed: string, aad: string): string {
  const parts = sealed.split(':');
  if (parts.length !== 4 || parts[0] !== 'v1') throw new Error('Unsupported card ciphertext format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1]!, 'base64'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(parts[2]!, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64')), decipher.final()]).toString('utf8');
}

function toPaymentMethod(item: Record<string, unknown>): PaymentMethod {
  const optional = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const customerId = optional('customerId');
  const checkoutId = optional('checkoutId');
  const detachedAt = optional('detachedAt');
  const shreddedAt = optional('shreddedAt');
  const networkTransactionId = optional('networkTransactionId');
  const country = optional('country');
  return {
    id: String(item.id),
    merchantId: String(item.merchantId),
    type: 'card',
    card: {
      brand: item.brand as CardBrand,
      last4: String(item.last4),
      expMonth: Number(item.expMonth),
      expYear: Number(item.expYear),
      fingerprint: String(item.fingerprint),
      ...(country !== undefined ? { country } : {}),
    },
    status: item.status as PaymentMethodStatus,
    ...(customerId !== undefined ? { customerId } : {}),
    ...(checkoutId !== undefined ? { checkoutId } : {}),
    cvcAvailable: typeof item.cvcCiphertext === 'string',
    ...(networkTransactionId !== undefined ? { networkTransactionId } : {}),
    createdAt: String(item.createdAt),
    ...(detachedAt !== undefined ? { detachedAt } : {}),
    ...(shreddedAt !== undefined ? { shreddedAt } : {}),
  };
}

function notFound(paymentMethodId: string): NotFoundError {
  return new NotFoundError(`No payment method ${paymentMethodId}`, { param: 'id' });
}

function unusable(status: PaymentMethodStatus): PaymentMethodUnusableError {
  return status === 'detached'
    ? new PaymentMethodUnusableError('The payment method was detached from its customer and can no longer be used', {
        code: 'payment_method_detached',
        param: 'payment_method',
      })
    : new PaymentMethodUnusableError("The payment method's customer was deleted; its card data is destroyed", {
        code: 'payment_method_deleted',
        param: 'payment_method',
      });
}
