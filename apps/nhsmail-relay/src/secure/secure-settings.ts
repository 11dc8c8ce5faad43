import type { NhsmailRelayConfig } from '../config/nhsmail.config';
import { parseSecureKeys, type SecureSettings } from './secure-mail';

/** The `[secure]` settings from the relay's configuration. */
export function secureSettingsOf(config: NhsmailRelayConfig): SecureSettings {
  return {
    keys: parseSecureKeys(config.NHSMAIL_SECURE_KEYS ?? ''),
    accreditedDomains: config.NHSMAIL_ACCREDITED_DOMAINS.split(',')
      .map((domain) => domain.trim().toLowerCase())
      .filter(Boolean),
    pageUrl: config.NHSMAIL_SECURE_PAGE_URL,
    linkDays: config.NHSMAIL_SECURE_LINK_DAYS,
    codeMinutes: config.NHSMAIL_SECURE_CODE_MINUTES,
    codeAttempts: config.NHSMAIL_SECURE_CODE_ATTEMPTS,
    codesPerLink: 10,
    sessionMinutes: config.NHSMAIL_SECURE_SESSION_MINUTES,
  };
}
