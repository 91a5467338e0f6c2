/**
 * Module-scope wiring for the functions that read or write customers (main table, TABLE_NAME):
 * api-customers and the vault function (api-payment-methods), later the pay path.
 */
import { DynamoCustomerRepository } from '../adapters/dynamo-customer-repository';
import type { CustomerRepository } from '../ports/customers';
import { documentClient, storeConfig } from './wiring';

export const customerRepository: CustomerRepository = new DynamoCustomerRepository(documentClient, storeConfig.tableName);
