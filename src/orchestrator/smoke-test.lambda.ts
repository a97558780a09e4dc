import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ENV } from '../shared/contract';
import { ReleaseProbe, ProbeFailed, ProbeInput } from './runtime/release-probe';

// default client configuration, so AWS_ENDPOINT_URL_LAMBDA_MICROVMS redirects it (the emulator in tests).
const microvms = new LambdaMicrovmsClient({});

/** CloudFormation's limit on a whole response is 4096 bytes; the reason is most of it. */
const MAX_REASON = 3000;

/**
 * The custom resource between the image and the orchestrator: a Create or Update tests the version the
 * orchestrator is about to launch and answers its number as `ImageVersion`; a Delete does nothing. Answers
 * CloudFormation itself through the presigned ResponseURL, which is never logged.
 */
export const handler = async (event: CloudFormationCustomResourceEvent): Promise<void> => {
  const physicalId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  if (event.RequestType === 'Delete') {
    await respond(event, { Status: 'SUCCESS', PhysicalResourceId: physicalId! });
    return;
  }
  let input: ProbeInput;
  try {
    input = parseInput(event.ResourceProperties, physicalId);
  } catch (err) {
    await respond(event, { Status: 'FAILED', Reason: `smoke test misconfigured: ${(err as Error).message}`, PhysicalResourceId: physicalId ?? 'invalid' });
    return;
  }
  const template = process.env[ENV.DATA_PLANE_URL_TEMPLATE];
  const test = new ReleaseProbe(microvms, {
    endpointUrl: template ? (endpoint) => template.replace('{endpoint}', endpoint) : undefined,
    log: (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields })),
  });
  try {
    const result = await test.run(input);
    await respond(event, {
      Status: 'SUCCESS',
      PhysicalResourceId: `${input.imageArn}:${result.imageVersion}`,
      Data: { ImageVersion: result.imageVersion },
    });
  } catch (err) {
    const reason = err instanceof ProbeFailed ? err.message : `smoke test crashed: ${(err as Error).name}`;
    console.log(JSON.stringify({ level: 'ERROR', message: 'smoke test failed', reason }));
    // a failed Create leaves no resource behind; a failed Update keeps the one that passed before.
    await respond(event, { Status: 'FAILED', Reason: reason, PhysicalResourceId: physicalId ?? `${input.imageArn}:failed` });
  }
};

/**
 * Reads the resource's properties (CloudFormation passes every scalar as a string). The version that passed last is
 * in the physical id, `<imageArn>:<version>`, and only counts for the same image.
 */
export function parseInput(props: Record<string, unknown>, physicalId?: string): ProbeInput {
  const imageArn = text(props, 'ImageArn', true);
  const promoted = physicalId?.startsWith(`${imageArn}:`) ? physicalId.slice(imageArn.length + 1) : undefined;
  return {
    imageArn,
    imageVersion: text(props, 'ImageVersion'),
    promotedVersion: promoted && promoted !== 'failed' ? promoted : undefined,
    executionRoleArn: text(props, 'ExecutionRoleArn') || undefined,
    runtimeLogGroup: text(props, 'RuntimeLogGroup') || undefined,
    egressConnectors: list(props, 'EgressConnectors'),
    ingressConnectors: list(props, 'IngressConnectors'),
    port: integer(props, 'Port', 1, 65535),
    path: text(props, 'Path', true),
    expectedStatus: integer(props, 'ExpectedStatus', 100, 599),
    timeoutSeconds: integer(props, 'TimeoutSeconds', 1, 600),
    payload: text(props, 'Payload') || undefined,
  };
}

function text(props: Record<string, unknown>, name: string, required = false): string {
  const value = props[name];
  if (value === undefined || value === '') {
    if (required) throw new Error(`${name} is required`);
    return '';
  }
  if (typeof value !== 'string') throw new Error(`${name} must be a string`);
  return value;
}

function integer(props: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = Number(text(props, name, true));
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

function list(props: Record<string, unknown>, name: string): string[] {
  const value = props[name] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new Error(`${name} must be a list of strings`);
  return value as string[];
}

interface CloudFormationResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

async function respond(event: CloudFormationCustomResourceEvent, response: CloudFormationResponse): Promise<void> {
  const body = JSON.stringify({
    ...response,
    Reason: (response.Reason ?? 'see the function log').slice(0, MAX_REASON),
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(event.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });
      if (res.ok) return;
      throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      if (attempt >= 3) {
        console.log(JSON.stringify({ level: 'ERROR', message: 'could not answer CloudFormation', error: (err as Error).message }));
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}
