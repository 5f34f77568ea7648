// `ost-forward put s3://bucket/key`: forwards an S3 object through the local stack.
// TODO(local stack): a stub until the local-stack engineer replaces it.
export async function runS3Put(_argv: string[]): Promise<number> {
  process.stderr.write('ost-forward put: s3:// sources are not implemented yet\n');
  return 2;
}
