import { CfnParameter } from 'aws-cdk-lib';
import { closedSecurityGroup, newStack } from './fixtures';
import { UNKNOWN, listCandidates, referencedIds, stringCandidates } from '../../src/nag/private/template';

describe('stringCandidates (what CloudFormation can make of a value)', () => {
  const stack = newStack();
  const node = closedSecurityGroup(stack);
  new CfnParameter(stack, 'Stage', { default: 'prod', allowedValues: ['prod', 'dev'] });
  new CfnParameter(stack, 'Free');

  test('literals, pseudo parameters and parameters', () => {
    expect(stringCandidates(node, 'x')).toEqual(['x']);
    expect(stringCandidates(node, 42)).toEqual(['42']);
    expect(stringCandidates(node, { Ref: 'AWS::Region' })).toEqual([UNKNOWN]);
    expect(stringCandidates(node, { Ref: 'Stage' })).toEqual(['prod', 'dev']);
    expect(stringCandidates(node, { Ref: 'Free' })).toEqual([UNKNOWN]);
    expect(stringCandidates(node, { 'Fn::GetAtt': ['Sg', 'GroupId'] })).toEqual([UNKNOWN]);
  });

  test('Fn::Join, Fn::Sub (escapes, variables, attributes), Fn::If and Fn::Select', () => {
    expect(stringCandidates(node, { 'Fn::Join': ['-', ['a', { Ref: 'Stage' }]] })).toEqual(['a-prod', 'a-dev']);
    expect(stringCandidates(node, { 'Fn::Sub': '${!Literal}-${Stage}-${Sg.GroupId}' })).toEqual([`\${Literal}-prod-${UNKNOWN}`, `\${Literal}-dev-${UNKNOWN}`]);
    expect(stringCandidates(node, { 'Fn::Sub': ['${A}', { A: 'b' }] })).toEqual(['b']);
    expect(stringCandidates(node, { 'Fn::If': ['C', 'yes', 'no'] })).toEqual(['yes', 'no']);
    expect(stringCandidates(node, { 'Fn::Select': [1, ['a', 'b']] })).toEqual(['b']);
    expect(stringCandidates(node, { 'Fn::Select': [{ Ref: 'Free' }, ['a', 'b']] })).toEqual(['a', 'b']);
    expect(stringCandidates(node, { 'Fn::ImportValue': 'x' })).toEqual([UNKNOWN]);
  });

  test('stays bounded on combinatorial templates', () => {
    const parts = Array.from({ length: 12 }, () => ({ 'Fn::If': ['C', 'a', 'b'] }));
    expect(stringCandidates(node, { 'Fn::Join': ['', parts] }).length).toBeLessThanOrEqual(32);
  });
});

describe('listCandidates and referencedIds', () => {
  const stack = newStack();
  const node = closedSecurityGroup(stack);
  new CfnParameter(stack, 'List', { type: 'CommaDelimitedList', default: 'a, b' });

  test('lists: literal (AWS::NoValue dropped), Fn::If branches, Fn::Split, list parameters, unknown', () => {
    expect(listCandidates(node, ['a', { Ref: 'AWS::NoValue' }])).toEqual([['a']]);
    expect(listCandidates(node, { 'Fn::If': ['C', ['a'], ['b']] })).toEqual([['a'], ['b']]);
    expect(listCandidates(node, { 'Fn::Split': [',', 'a,b'] })).toEqual([['a', 'b']]);
    expect(listCandidates(node, { Ref: 'List' })).toEqual([['a', 'b']]);
    expect(listCandidates(node, { 'Fn::GetAZs': '' })).toEqual([]);
  });

  test('referencedIds finds Ref, GetAtt and Fn::Sub references, not pseudo parameters or Sub variables', () => {
    const ids = referencedIds({
      a: { Ref: 'A' }, b: [{ 'Fn::GetAtt': ['B', 'Arn'] }], c: { 'Fn::Sub': ['${C}-${D.Arn}-${V}-${AWS::Region}-${!E}', { V: 'v' }] },
    });
    expect([...ids].sort()).toEqual(['A', 'B', 'C', 'D']);
  });
});
