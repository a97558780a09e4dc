import { aws_logs as logs } from 'aws-cdk-lib';
import type { ImageLogGroupOptions } from '../image-logging';

/** what an `ImageLogging` asks of the image that uses it. */
export interface ImageLoggingSpec {
  readonly kind: 'NEW' | 'EXISTING' | 'DISABLED';
  readonly logGroup?: logs.ILogGroup;
  readonly options: ImageLogGroupOptions;
}
