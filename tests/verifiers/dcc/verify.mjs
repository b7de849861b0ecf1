// Verifies a batch of credentials with the Digital Credentials Consortium's libraries, as the
// Learner Credential Wallet's verifier does: @digitalcredentials/vc with the eddsa-rdfc-2022
// cryptosuite, and @digitalcredentials/vc-bitstring-status-list for the status.
//
// stdin: {"server": "http://127.0.0.1:PORT", "clrContext": "<path>", "credentials": [{"name",
// "credential", "now"?}]}; stdout: [{"name", "verified", "log", "status", "errors"}].
//
// Documents load as a wallet loads them: the published contexts from the DCC's own packages
// (securityLoader, no network), plus the CLR 2.0.1 context, which no DCC package ships, from
// the registry's copy. The test server has no TLS, so its did:web DID resolves over HTTP here
// (did:web itself says HTTPS); its status lists are fetched from it. Nothing else loads.
import { readFileSync } from 'node:fs';
import { verifyCredential } from '@digitalcredentials/vc';
import { DataIntegrityProof } from '@digitalcredentials/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite';
import { checkStatus } from '@digitalcredentials/vc-bitstring-status-list';
import { securityLoader } from '@digitalcredentials/security-document-loader';

const CLR_CONTEXT = 'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json';
const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1';

const input = JSON.parse(readFileSync(0, 'utf8'));
const server = new URL(input.server);
const did = `did:web:${encodeURIComponent(server.host)}`;
const walletLoader = securityLoader().build();
const clrContext = JSON.parse(readFileSync(input.clrContext, 'utf8'));

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  return response.json();
}

async function documentLoader(url) {
  if (url === CLR_CONTEXT) {
    return { contextUrl: null, documentUrl: url, document: clrContext };
  }
  if (url === did || url.startsWith(`${did}#`)) {
    const didDocument = await fetchJson(`${server.origin}/.well-known/did.json`);
    if (didDocument.id !== did) {
      throw new Error(`the DID document at ${server.origin} is not ${did}'s`);
    }
    if (url === did) {
      return { contextUrl: null, documentUrl: url, document: didDocument };
    }
    const method = didDocument.verificationMethod.find((m) => m.id === url);
    if (!method) {
      throw new Error(`${did} has no verification method ${url}`);
    }
    const context = method.type === 'Multikey' ? MULTIKEY_CONTEXT : didDocument['@context'];
    return { contextUrl: null, documentUrl: url, document: { '@context': context, ...method } };
  }
  if (url.startsWith(`${server.origin}/credentials/status/`)) {
    return { contextUrl: null, documentUrl: url, document: await fetchJson(url) };
  }
  return walletLoader(url);
}

function messages(error) {
  const found = [];
  for (let e = error; e; e = e.cause) {
    found.push(e.message ?? String(e));
    for (const inner of e.errors ?? []) {
      found.push(...messages(inner));
    }
  }
  return found;
}

async function verifyOne({ name, credential, now }) {
  const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
  try {
    const result = await verifyCredential({
      credential,
      suite,
      documentLoader,
      checkStatus,
      now: now ? new Date(now) : undefined,
    });
    const errors = [
      ...messages(result.error),
      ...(result.results ?? []).flatMap((r) => messages(r.error)),
      ...messages(result.statusResult?.error),
    ];
    return {
      name,
      verified: result.verified,
      // A check that throws leaves the log of the checks so far on its error.
      log: result.log ?? result.error?.log ?? [],
      status: (result.statusResult?.results ?? []).map((r) => r.verified),
      errors: [...new Set(errors)],
    };
  } catch (error) {
    return { name, verified: false, log: error.log ?? [], status: [], errors: messages(error) };
  }
}

const results = [];
for (const item of input.credentials) {
  results.push(await verifyOne(item));
}
process.stdout.write(JSON.stringify(results));
