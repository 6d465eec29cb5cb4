import { describe, expect, it } from 'vitest';
import { isLocalEndpoint, resolveBaseURL } from '../../server/model/model-endpoint.js';

describe('resolveBaseURL: config, then OPENAI_BASE_URL, then OpenAI', () => {
  it('takes each in turn and says where the URL came from', () => {
    expect(resolveBaseURL({ baseURL: 'http://gpu:8000/v1' }, { OPENAI_BASE_URL: 'http://localhost:11434/v1' })).toEqual({ baseURL: 'http://gpu:8000/v1', source: 'model.baseURL in the config' });
    expect(resolveBaseURL({}, { OPENAI_BASE_URL: ' http://localhost:11434/v1 ' })).toEqual({ baseURL: 'http://localhost:11434/v1', source: 'OPENAI_BASE_URL in the environment' });
    expect(resolveBaseURL({}, { OPENAI_BASE_URL: '' })).toEqual({ baseURL: 'https://api.openai.com/v1', source: 'the default (OpenAI)' });
    expect(resolveBaseURL({}, {})).toEqual({ baseURL: 'https://api.openai.com/v1', source: 'the default (OpenAI)' });
  });

  it('refuses an OPENAI_BASE_URL that is not an http(s) URL, saying what to set', () => {
    expect(() => resolveBaseURL({}, { OPENAI_BASE_URL: 'localhost:11434' })).toThrow(/OPENAI_BASE_URL is not an http\(s\) URL: "localhost:11434" \(set it to the endpoint, e\.g\. http:\/\/localhost:11434\/v1/);
    expect(() => resolveBaseURL({}, { OPENAI_BASE_URL: 'not a url' })).toThrow(/not an http\(s\) URL/);
  });

  it('knows local endpoints, and is not fooled by look-alikes', () => {
    expect(isLocalEndpoint('http://localhost:8080/v1')).toBe(true);
    expect(isLocalEndpoint('http://127.0.0.1:1234/v1')).toBe(true);
    expect(isLocalEndpoint('http://[::1]:8000/v1')).toBe(true);
    expect(isLocalEndpoint('http://localhost.example.com/v1')).toBe(false);
    expect(isLocalEndpoint('garbage')).toBe(false);
  });
});
