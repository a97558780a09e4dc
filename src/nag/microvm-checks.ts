import { CfnResource } from 'aws-cdk-lib';
import { NagPack, NagPackProps } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { MICROVM_RULES } from './rules';

/**
 * A cdk-nag rule pack for AWS Lambda MicroVMs: internet egress, open egress security groups, VPC endpoints that
 * admit any account and secrets baked into snapshots are errors; logging, unfiltered DNS, encryption, OS
 * capabilities, token scope, hooks port exposure, lifetime limits and execution-role wildcards are warnings. It reads CloudFormation resources (`AWS::Lambda::MicrovmImage`,
 * `AWS::Lambda::NetworkConnector`, security groups, VPC endpoints, DNS Firewall associations, IAM roles and policies, and the run configuration an
 * orchestrator records in its function's Metadata), so it checks hand-written stacks and escape-hatch overrides
 * as well as this library's constructs. See RULES.md for every rule.
 *
 * Register it with `Validations.of(app).addPlugins(new MicrovmChecks(app))`; acknowledge a reviewed finding with
 * `Validations.of(construct).acknowledge({ id: 'MicrovmChecks-<Rule>', reason: '...' })`.
 */
export class MicrovmChecks extends NagPack {
  public readonly name = 'MicrovmChecks';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'MicrovmChecks';
  }

  protected checkResource(node: CfnResource): void {
    for (const rule of MICROVM_RULES) {
      this.applyRule({
        ruleSuffixOverride: rule.id,
        info: rule.info,
        explanation: rule.explanation,
        level: rule.level,
        node,
        rule: rule.check,
      });
    }
  }
}
