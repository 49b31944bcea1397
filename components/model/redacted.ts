/**
 * The stand-in for a secret that `registry-setup render` cannot decrypt.
 *
 * @module
 */

/**
 * What `registry-setup render` passes a program in place of an encrypted config value (it has no stack key). The
 * model's value checks let it through (a user name, a private key, a certificate): the real value is checked when
 * `pulumi up` runs with it. It holds no `:` and no control character, so that it cannot break what it stands for.
 */
export const REDACTED = "[secret, not decrypted by registry-setup render]";
