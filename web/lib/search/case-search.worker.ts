// The case list's search index, off the main thread: indexing thousands of cases with their
// evidence names and annotations would otherwise stall typing and scrolling.
import { CaseSearchIndex } from './case-query';
import type { SearchRequest, SearchResponse } from './case-search';

const index = new CaseSearchIndex();
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<SearchRequest>) => void) | null;
  postMessage(message: SearchResponse): void;
};

scope.onmessage = ({ data }) => {
  if (data.type === 'sync') index.sync(data.documents);
  else scope.postMessage({ seq: data.seq, ids: index.search(data.text) });
};
