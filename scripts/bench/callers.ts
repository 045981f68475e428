import { testToken } from '../../test/support/identity.js';

/**
 * Headers of gateway (a)'s caller in every measurement: an officer with every
 * read scope and certificate verification, acting under 人才引进落户 (a
 * matter that reaches all five domains).
 */
export async function readerHeaders(dataDir: string): Promise<Record<string, string>> {
  const token = await testToken(dataDir, {
    scopes: ['household:read', 'social-insurance:read', 'provident-fund:read', 'credit:read', 'licence:read', 'certificate:verify'],
    lifetimeSeconds: 3600,
  });
  return { authorization: `Bearer ${token}`, 'x-matter-code': 'TB-HJ-004' };
}

/**
 * Issues participation certificates (for W3) through the gateway at `url`,
 * as a Lhasa social-insurance officer under 社会保险参保证明开具: the
 * certificate's token, or null when the person has no insurance record.
 */
export async function certificateIssuer(dataDir: string, url: string): Promise<(idNumber: string) => Promise<string | null>> {
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${await testToken(dataDir, { scopes: ['household:read', 'social-insurance:read', 'certificate:issue'], lifetimeSeconds: 3600 })}`,
    'x-matter-code': 'TB-SB-005',
  };
  return async (idNumber) => {
    const body = JSON.stringify({
      query: 'mutation($id: ID!) { issueParticipationCertificate(idNumber: $id) { token } }',
      variables: { id: idNumber },
    });
    const response = await fetch(url, { method: 'POST', headers, body });
    const json = (await response.json()) as { data?: { issueParticipationCertificate?: { token: string } | null } | null };
    return json.data?.issueParticipationCertificate?.token ?? null;
  };
}
