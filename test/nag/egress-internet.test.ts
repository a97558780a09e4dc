import { Aws, CfnMapping, CfnParameter, Fn, aws_lambda as lambda } from 'aws-cdk-lib';
import { INTERNET_EGRESS, compliantImage, newStack, ruleFindings, runConfigurationFunction } from './fixtures';

const RULE = 'EgressInternet';
const FLAGGED = ['MicrovmChecks-EgressInternet'];

describe('EgressInternet on images', () => {
  test('passes with a VPC egress connector referenced by Fn::GetAtt', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test('passes with a VPC egress connector referenced by Ref', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    const connector = stack.node.findChild('ImageConnector') as lambda.CfnNetworkConnector;
    image.egressNetworkConnectors = [connector.ref];
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test('passes with a literal customer connector ARN (versioned or not)', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', {
      egressNetworkConnectors: ['arn:aws:lambda:us-east-1:123456789012:network-connector:nc-0123456789abcdef:3'],
    });
    const other = compliantImage(stack, 'Other', {
      egressNetworkConnectors: ['arn:aws:lambda:us-east-1:123456789012:network-connector:nc-0123456789abcdef'],
    });
    expect(ruleFindings(image, RULE)).toEqual([]);
    expect(ruleFindings(other, RULE)).toEqual([]);
  });

  test('tokens only CloudFormation can resolve (an imported connector) get the benefit of the doubt', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { egressNetworkConnectors: [Fn.importValue('shared-egress-connector')] });
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test.each([
    ['aws', INTERNET_EGRESS],
    ['aws-cn', 'arn:aws-cn:lambda:cn-north-1:aws:network-connector:aws-network-connector:INTERNET_EGRESS'],
    ['aws-us-gov', 'arn:aws-us-gov:lambda:us-gov-west-1:aws:network-connector:aws-network-connector:INTERNET_EGRESS'],
  ])('fails if the image uses the literal INTERNET_EGRESS ARN in the %s partition', (_partition, arn) => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { egressNetworkConnectors: [arn] });
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('fails if INTERNET_EGRESS is built with the stack partition and region tokens (Fn::Join)', () => {
    const stack = newStack();
    const arn = `arn:${stack.partition}:lambda:${stack.region}:aws:network-connector:aws-network-connector:INTERNET_EGRESS`;
    const image = compliantImage(stack, 'Image', { egressNetworkConnectors: [arn] });
    expect(stack.resolve(arn)).toHaveProperty(['Fn::Join']);
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('fails if INTERNET_EGRESS is written as Fn::Join of pseudo parameters through an escape hatch', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    image.addPropertyOverride('EgressNetworkConnectors', [{
      'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'lambda', { Ref: 'AWS::Region' }, 'aws', 'network-connector', 'aws-network-connector', 'INTERNET_EGRESS']],
    }]);
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('fails if INTERNET_EGRESS is written with Fn::Sub (string and variable-map forms)', () => {
    const stack = newStack();
    const sub = compliantImage(stack, 'Sub');
    sub.addPropertyOverride('EgressNetworkConnectors', [
      { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:aws:network-connector:aws-network-connector:INTERNET_EGRESS' },
    ]);
    const subMap = compliantImage(stack, 'SubMap');
    subMap.addPropertyOverride('EgressNetworkConnectors', [
      { 'Fn::Sub': ['arn:${P}:lambda:${AWS::Region}:aws:network-connector:aws-network-connector:${Name}', { P: { Ref: 'AWS::Partition' }, Name: 'INTERNET_EGRESS' }] },
    ]);
    expect(ruleFindings(sub, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(subMap, RULE)).toEqual(FLAGGED);
  });

  test('fails if the connector is a parameter that defaults to or allows INTERNET_EGRESS', () => {
    const stack = newStack();
    const byDefault = new CfnParameter(stack, 'EgressDefault', { default: INTERNET_EGRESS });
    const allowed = new CfnParameter(stack, 'EgressAllowed', { allowedValues: ['arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1', INTERNET_EGRESS] });
    const a = compliantImage(stack, 'A', { egressNetworkConnectors: [byDefault.valueAsString] });
    const b = compliantImage(stack, 'B', { egressNetworkConnectors: [allowed.valueAsString] });
    expect(ruleFindings(a, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(b, RULE)).toEqual(FLAGGED);
  });

  test('follows Fn::FindInMap: fails when a region the mapping could pick holds INTERNET_EGRESS, passes when none does', () => {
    const stack = newStack();
    const vpc = 'arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1';
    const mapping = new CfnMapping(stack, 'Egress', {
      mapping: { 'us-east-1': { connector: vpc }, 'eu-west-1': { connector: INTERNET_EGRESS } },
    });
    const byRegion = compliantImage(stack, 'ByRegion', { egressNetworkConnectors: [mapping.findInMap(Aws.REGION, 'connector')] });
    const pinned = compliantImage(stack, 'Pinned', { egressNetworkConnectors: [mapping.findInMap('us-east-1', 'connector')] });
    const closed = new CfnMapping(stack, 'Closed', { mapping: { 'us-east-1': { connector: vpc }, 'eu-west-1': { connector: vpc } } });
    const allVpc = compliantImage(stack, 'AllVpc', { egressNetworkConnectors: [closed.findInMap(Aws.REGION, 'connector')] });
    expect(ruleFindings(byRegion, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(pinned, RULE)).toEqual([]);
    expect(ruleFindings(allVpc, RULE)).toEqual([]);
  });

  test('follows Fn::FindInMap to a whole list of connectors', () => {
    const stack = newStack();
    const mapping = new CfnMapping(stack, 'Lists', { mapping: { prod: { connectors: [INTERNET_EGRESS] } } });
    const image = compliantImage(stack);
    image.addPropertyOverride('EgressNetworkConnectors', { 'Fn::FindInMap': [mapping.logicalId, 'prod', 'connectors'] });
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('fails if the whole list is a CommaDelimitedList parameter whose default includes INTERNET_EGRESS', () => {
    const stack = newStack();
    const list = new CfnParameter(stack, 'Connectors', { type: 'CommaDelimitedList', default: `arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1,${INTERNET_EGRESS}` });
    const image = compliantImage(stack);
    image.addPropertyOverride('EgressNetworkConnectors', { Ref: list.logicalId });
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('passes if the whole list is a CommaDelimitedList parameter of VPC connectors', () => {
    const stack = newStack();
    const list = new CfnParameter(stack, 'Connectors', { type: 'CommaDelimitedList', default: 'arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1' });
    const image = compliantImage(stack);
    image.addPropertyOverride('EgressNetworkConnectors', { Ref: list.logicalId });
    expect(ruleFindings(image, RULE)).toEqual([]);
  });

  test('fails if an AWS-managed connector\'s name is a parameter without default (INTERNET_EGRESS is the only managed egress)', () => {
    const stack = newStack();
    const name = new CfnParameter(stack, 'ConnectorName');
    const image = compliantImage(stack, 'Image', {
      egressNetworkConnectors: [`arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:${name.valueAsString}`],
    });
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('fails if either branch of an Fn::If is INTERNET_EGRESS', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    image.addPropertyOverride('EgressNetworkConnectors', {
      'Fn::If': ['IsProd', [{ 'Fn::GetAtt': ['ImageConnector', 'Arn'] }], [INTERNET_EGRESS]],
    });
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('fails if INTERNET_EGRESS sits next to a VPC connector', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    const connector = stack.node.findChild('ImageConnector') as lambda.CfnNetworkConnector;
    image.egressNetworkConnectors = [connector.attrArn, INTERNET_EGRESS];
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });

  test('fails if the image has no egress connector (empty, removed by an override, or only a managed ingress connector)', () => {
    const stack = newStack();
    const empty = compliantImage(stack, 'Empty', { egressNetworkConnectors: [] });
    const removed = compliantImage(stack, 'Removed');
    removed.addPropertyDeletionOverride('EgressNetworkConnectors');
    const ingressOnly = compliantImage(stack, 'IngressOnly', {
      egressNetworkConnectors: ['arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS'],
    });
    expect(ruleFindings(empty, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(removed, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(ingressOnly, RULE)).toEqual(FLAGGED);
  });

  test('fails if a compliant image is switched to INTERNET_EGRESS by an escape hatch', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    expect(ruleFindings(image, RULE)).toEqual([]);
    image.addPropertyOverride('EgressNetworkConnectors.0', INTERNET_EGRESS);
    expect(ruleFindings(image, RULE)).toEqual(FLAGGED);
  });
});

describe('EgressInternet on run configurations', () => {
  test('passes with an isolated VPC connector', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test('does not apply to a function without a run configuration', () => {
    const stack = newStack();
    const fn = new lambda.CfnFunction(stack, 'Plain', { code: { zipFile: 'x' }, role: 'arn:aws:iam::123456789012:role/r', runtime: 'nodejs24.x', handler: 'index.handler' });
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test('fails if the egress mode is INTERNET', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { egressMode: 'INTERNET' });
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });

  test('fails if the run configuration passes INTERNET_EGRESS built from tokens', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), {
      egressMode: 'VPC',
      egressNetworkConnectors: [`arn:${stack.partition}:lambda:${stack.region}:aws:network-connector:aws-network-connector:INTERNET_EGRESS`],
    });
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });

  test('fails if the run configuration passes no egress connector (the VM inherits the image egress)', () => {
    const stack = newStack();
    const empty = runConfigurationFunction(stack, compliantImage(stack), { egressNetworkConnectors: [] }, 'Empty');
    const missing = runConfigurationFunction(stack, compliantImage(stack, 'Image2'), { egressNetworkConnectors: undefined }, 'Missing');
    expect(ruleFindings(empty, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(missing, RULE)).toEqual(FLAGGED);
  });

  test('fails if the run configuration metadata is overridden to INTERNET through an escape hatch', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    fn.addOverride('Metadata.cdk-lambda-microvms:run-configuration.egressMode', 'INTERNET');
    expect(ruleFindings(fn, RULE)).toEqual(FLAGGED);
  });
});
