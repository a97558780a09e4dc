import { ApiError } from './errors';
import type { ImageApi } from './image-api';
import type { MicrovmApi } from './microvm-api';
import type { OperationName } from './types';

/** The API version prefix of every MicroVM route. */
export const API_VERSION = '2025-09-09';

/** A request matched to an operation. */
export interface Route {
  readonly operation: OperationName;
  /** HTTP status of a successful answer (from the SDK's http traits). */
  readonly successStatus: number;
  /** Whether the operation takes a JSON body. */
  readonly hasBody: boolean;
  invoke(body: Record<string, any>): unknown;
}

/**
 * Maps method and path to an operation, as the SDK's http traits define them (`@http(method, uri, code)`).
 * Labels are percent-decoded, since the SDK encodes them (an image ARN's colons arrive as `%3A`).
 */
export function resolveRoute(method: string, pathname: string, query: URLSearchParams, vms: MicrovmApi, images: ImageApi): Route {
  let segments: string[];
  try {
    segments = pathname.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  } catch {
    throw unknownOperation(method, pathname);
  }
  const [version, collection, id, sub, subId, ...rest] = segments;
  if (version !== API_VERSION || rest.length > 0) throw unknownOperation(method, pathname);
  const r = (operation: OperationName, invoke: Route['invoke'], hasBody = false, successStatus = 200): Route =>
    ({ operation, invoke, hasBody, successStatus });

  if (collection === 'microvms') {
    if (id === undefined) {
      if (method === 'POST') return r('RunMicrovm', (b) => vms.run(b), true);
      if (method === 'GET') return r('ListMicrovms', () => vms.list(query));
    } else if (sub === undefined) {
      if (method === 'GET') return r('GetMicrovm', () => vms.get(id));
      if (method === 'DELETE') return r('TerminateMicrovm', () => vms.terminate(id));
    } else if (subId === undefined && method === 'POST') {
      if (sub === 'suspend') return r('SuspendMicrovm', () => vms.suspend(id), true);
      if (sub === 'resume') return r('ResumeMicrovm', () => vms.resume(id), true);
      if (sub === 'auth-token') return r('CreateMicrovmAuthToken', (b) => vms.authToken(id, b), true);
      if (sub === 'shell-auth-token') return r('CreateMicrovmShellAuthToken', (b) => vms.shellAuthToken(id, b), true);
    }
  } else if (collection === 'microvm-images') {
    if (id === undefined) {
      if (method === 'POST') return r('CreateMicrovmImage', (b) => images.create(b), true, 201);
      if (method === 'GET') return r('ListMicrovmImages', () => images.list(query));
    } else if (sub === undefined) {
      if (method === 'GET') return r('GetMicrovmImage', () => images.get(id));
      if (method === 'DELETE') return r('DeleteMicrovmImage', () => images.delete(id));
      if (method === 'PUT') return r('UpdateMicrovmImage', (b) => images.update(id, b), true);
    } else if (sub === 'versions') {
      if (subId === undefined && method === 'GET') return r('ListMicrovmImageVersions', () => images.listVersions(id, query));
      if (subId !== undefined && method === 'GET') return r('GetMicrovmImageVersion', () => images.getVersion(id, subId));
      if (subId !== undefined && method === 'DELETE') return r('DeleteMicrovmImageVersion', () => images.deleteVersion(id, subId));
      if (subId !== undefined && method === 'PATCH') {
        return r('UpdateMicrovmImageVersion', (b) => images.updateVersion(id, subId, b), true);
      }
    }
  } else if (collection === 'managed-microvm-images') {
    if (id === undefined && method === 'GET') return r('ListManagedMicrovmImages', () => images.listManaged(query));
    if (id !== undefined && sub === 'versions' && subId === undefined && method === 'GET') {
      return r('ListManagedMicrovmImageVersions', () => images.listManagedVersions(id, query));
    }
  }
  throw unknownOperation(method, pathname);
}

function unknownOperation(method: string, pathname: string): ApiError {
  return new ApiError(404, 'UnknownOperationException', `The emulator does not serve ${method} ${pathname}.`);
}
