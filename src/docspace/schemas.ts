import { z } from 'zod'

/**
 * The backup progress object. `error` is '' while all is well; `warning`
 * exists since DocSpace 3.6 and `status` since 3.7.1.
 */
export const backupProgressSchema = z.looseObject({
  taskId: z.string().min(1),
  isCompleted: z.boolean(),
  progress: z.number().min(0).max(100),
  error: z
    .string()
    .nullish()
    .transform(value => value ?? ''),
  warning: z
    .string()
    .nullish()
    .transform(value => value ?? ''),
  link: z
    .string()
    .nullish()
    .transform(value => value ?? ''),
  status: z.number().int().optional()
})

export type BackupProgress = z.infer<typeof backupProgressSchema>

/** One record of `getbackuphistory`. */
export const backupHistoryRecordSchema = z.looseObject({
  id: z.string(),
  fileName: z
    .string()
    .nullish()
    .transform(value => value ?? ''),
  storageType: z.number().int().optional(),
  createdOn: z.string().optional(),
  expiresOn: z.string().optional()
})

export type BackupHistoryRecord = z.infer<typeof backupHistoryRecordSchema>

/**
 * The body of every DocSpace API response. `response` is left out when null,
 * but `status` (0 or 1) and `statusCode` are always there, which distinguishes
 * an envelope from other JSON.
 */
export const envelopeSchema = z
  .looseObject({
    response: z.unknown().optional(),
    count: z.number().optional(),
    status: z.number().optional(),
    statusCode: z.number().optional(),
    error: z.unknown().optional()
  })
  .refine(
    body =>
      body.status !== undefined ||
      body.statusCode !== undefined ||
      body.error !== undefined,
    { message: 'not a DocSpace envelope: no status, statusCode or error' }
  )

/** The `error` object of an error envelope; `stack` is never shown. */
export const envelopeErrorSchema = z.looseObject({
  message: z.string().nullish()
})

/** ASP.NET's validation problem details, wrapped in `response`. */
export const validationProblemSchema = z.looseObject({
  title: z.string().nullish(),
  detail: z.string().nullish(),
  errors: z.record(z.string(), z.array(z.string())).nullish()
})

/** Formats zod issues as `path: message` lines without the received values. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map(issue => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(body)'
      return `${path}: ${issue.message}`
    })
    .join('; ')
}
