import { randomBytes } from 'node:crypto'
import { jsonReply, type Reply } from './reply.js'

/** The request fields that DocSpace copies into the envelope's `links`. */
export interface RequestLink {
  href: string
  action: string
}

/** A .NET exception as the DocSpace exception handler reports it. */
export interface ServerException {
  status: number
  type: string
  message: string
  hresult: number
}

/** Text that every simulated stack trace contains, for leak checks. */
export const STACK_TRACE_MARKER = 'ASC.Data.Backup.Api.BackupController'

// HRESULT values are the ones .NET assigns to these exception classes.
export const exceptions = {
  argument: (message: string): ServerException => ({
    status: 400,
    type: 'System.ArgumentException',
    message,
    hresult: -2147024809
  }),
  accessDenied: (): ServerException => ({
    status: 403,
    type: 'System.Security.SecurityException',
    message: 'Access denied',
    hresult: -2146233078
  }),
  directoryNotFound: (message: string): ServerException => ({
    status: 404,
    type: 'System.IO.DirectoryNotFoundException',
    message,
    hresult: -2147024893
  }),
  quota: (message: string): ServerException => ({
    status: 402,
    type: 'ASC.Core.Tenants.TenantQuotaException',
    message,
    hresult: -2146233088
  }),
  keyNotFound: (key: string): ServerException => ({
    status: 500,
    type: 'System.Collections.Generic.KeyNotFoundException',
    message: `The given key '${key}' was not present in the dictionary.`,
    hresult: -2146232969
  }),
  nullReference: (): ServerException => ({
    status: 500,
    type: 'System.NullReferenceException',
    message: 'Object reference not set to an instance of an object.',
    hresult: -2147467261
  }),
  general: (message: string): ServerException => ({
    status: 500,
    type: 'System.Exception',
    message,
    hresult: -2146233088
  })
}

const STACK_TRACE = [
  `   at ${STACK_TRACE_MARKER}.StartBackupAsync(BackupDto inDto) in /app/common/services/ASC.Data.Backup/Api/BackupController.cs:line 214`,
  '   at lambda_method1187(Closure, Object)',
  '   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.AwaitableObjectResultExecutor.Execute(ActionContext actionContext, IActionResultTypeMapper mapper, ObjectMethodExecutor executor, Object controller, Object[] arguments)',
  '   at Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.<InvokeActionMethodAsync>g__Awaited|12_0(ControllerActionInvoker invoker, ValueTask`1 actionResultValueTask)'
].join('\n')

/**
 * Wraps a result the way DocSpace does. A null or undefined response is left
 * out and gives `count: 0`.
 */
export function successReply(response: unknown, link: RequestLink): Reply {
  const envelope: Record<string, unknown> = {}
  if (response !== undefined && response !== null) {
    envelope.response = response
  }

  envelope.count = countOf(response)
  envelope.links = [link]
  envelope.status = 0
  envelope.statusCode = 200

  return jsonReply(200, envelope)
}

export function exceptionReply(exception: ServerException): Reply {
  return jsonReply(exception.status, {
    error: {
      message: exception.message,
      type: exception.type,
      stack: STACK_TRACE,
      hresult: exception.hresult
    },
    status: 1,
    statusCode: exception.status
  })
}

/**
 * Builds the 400 that ASP.NET model binding produces. DocSpace wraps the
 * ValidationProblemDetails as a success envelope with `status: 1`, so it has
 * no `error` object.
 */
export function validationReply(
  errors: Record<string, string[]>,
  link: RequestLink
): Reply {
  const problem = {
    type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
    title: 'One or more validation errors occurred.',
    status: 400,
    errors,
    traceId: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`
  }

  return jsonReply(400, {
    response: problem,
    count: 1,
    links: [link],
    status: 1,
    statusCode: 400
  })
}

function countOf(response: unknown): number {
  if (Array.isArray(response)) {
    return response.length
  }

  return response === undefined || response === null ? 0 : 1
}
