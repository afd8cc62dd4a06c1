import {
  DocSpaceHttpError,
  DocSpaceTimeoutError
} from '../../src/docspace/errors.js'

const PROGRESS_REQUEST = {
  method: 'GET',
  path: '/api/2.0/backup/getbackupprogress'
}

const START_REQUEST = { method: 'POST', path: '/api/2.0/backup/startbackup' }

/** Builds the HTTP error that the client throws for `status`. */
export function httpError(
  status: number,
  options: { serverMessage?: string; retryAfterSeconds?: number } = {}
): DocSpaceHttpError {
  return new DocSpaceHttpError(PROGRESS_REQUEST, {
    status,
    serverMessage: options.serverMessage ?? '',
    hint: '',
    retryAfterSeconds: options.retryAfterSeconds
  })
}

/** Builds the timeout of a startbackup request, which may have started a job. */
export function startTimeout(): DocSpaceTimeoutError {
  return new DocSpaceTimeoutError(START_REQUEST, 30_000)
}
