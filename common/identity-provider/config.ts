/**
 * The settings of a demo identity provider (`npm run idp -- <name>`):
 * IDP_PORT_<NAME> (IDP_PORT_HUNAN, IDP_PORT_XIZANG, IDP_PORT_NATIONAL;
 * defaults 4101, 4102, 4103; 0 picks a free port). The data folder, the
 * gateway's audience and its port are the gateway's own settings, passed in.
 */
import { integerSetting } from '../settings.js';
import { PROVIDER_PROFILES, type IdentityProviderName } from './directory.js';

/** The variable of a provider's port, e.g. IDP_PORT_HUNAN. */
export function identityProviderPortVariable(name: IdentityProviderName): string {
  return `IDP_PORT_${name.toUpperCase()}`;
}

/** IDP_PORT_<NAME>, default the provider's own port. */
export function identityProviderPortSetting(env: NodeJS.ProcessEnv, name: IdentityProviderName): number {
  return integerSetting(env, identityProviderPortVariable(name), PROVIDER_PROFILES[name].port, 0, 65535);
}
