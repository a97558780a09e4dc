import { App, Stack } from 'aws-cdk-lib';
import { Egress, EgressMode, Ingress } from '../../src';

describe('Ingress', () => {
  const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-west-1' } });

  test('renders AWS-managed connector ARNs for the stack partition and region', () => {
    const arns = Ingress._renderArns(stack, [Ingress.http(), Ingress.shell()]).map((arn) => stack.resolve(arn));
    expect(arns).toEqual(['HTTP_INGRESS', 'SHELL_INGRESS'].map((name) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lambda:eu-west-1:aws:network-connector:aws-network-connector:${name}`]],
    })));
  });

  test('renders the deploy-time partition, so China and GovCloud regions work', () => {
    const cn = new Stack(new App(), 'Cn', { env: { account: '123456789012', region: 'cn-north-1' } });
    expect(cn.resolve(Ingress._renderArns(cn, [Ingress.none()]))).toEqual([{
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:cn-north-1:aws:network-connector:aws-network-connector:NO_INGRESS']],
    }]);
  });

  test('renders pseudo parameters in an environment-agnostic stack', () => {
    const agnostic = new Stack(new App(), 'Agnostic');
    expect(agnostic.resolve(Ingress.all().bind(agnostic))).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, ':aws:network-connector:aws-network-connector:ALL_INGRESS']],
    });
  });

  test('fails if ALL_INGRESS is combined with another connector', () => {
    expect(() => Ingress._renderArns(stack, [Ingress.all(), Ingress.shell()])).toThrow(/must not combine ALL_INGRESS/);
  });

  test('fails if NO_INGRESS is combined with another connector', () => {
    expect(() => Ingress._renderArns(stack, [Ingress.none(), Ingress.http()])).toThrow(/must not combine NO_INGRESS/);
  });

  test('fails if the list is empty or repeats a connector', () => {
    expect(() => Ingress._renderArns(stack, [])).toThrow(/at least one/);
    expect(() => Ingress._renderArns(stack, [Ingress.http(), Ingress.http()])).toThrow(/must not repeat/);
  });
});

describe('Egress', () => {
  test('internet() is the managed INTERNET_EGRESS connector and reports INTERNET', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
    const config = Egress.internet().bind(stack);
    expect(config.mode).toBe(EgressMode.INTERNET);
    expect(stack.resolve(config.networkConnectorArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:aws:network-connector:aws-network-connector:INTERNET_EGRESS']],
    });
  });
});
