/** The keyring configured by ENCRYPTION_KEYS / ENCRYPTION_KEY_ID, built once per settings object. */
import type { Settings } from "../config";
import { AppError } from "../errors";
import { Keyring, KeyringError } from "./keyring";

const cache = new WeakMap<Settings, Keyring>();

export function keyringOf(config: Settings): Keyring {
  let ring = cache.get(config);
  if (!ring) {
    try {
      ring = Keyring.fromSettings(config.ENCRYPTION_KEYS, config.ENCRYPTION_KEY_ID);
    } catch (error) {
      if (error instanceof KeyringError) {
        throw new AppError(500, "ENCRYPTION_NOT_CONFIGURED", "Encryption keys are not configured", { cause: error });
      }
      throw error;
    }
    cache.set(config, ring);
  }
  return ring;
}
