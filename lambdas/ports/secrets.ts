/** Port: encryption of secrets we must be able to use later (signing secrets). Hash what you only compare. */

/** Encrypts secrets we must be able to use later (signing secrets). Hash what you only compare. */
export interface SecretCipher {
  encrypt(plaintext: string): Promise<string>;
  decrypt(ciphertext: string): Promise<string>;
}
