package io.flowgate.flow;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * {@code $nodes} without copying: a read-only view of the first {@code count} node completions of a run. The run
 * only appends to the arrays beyond {@code count}, so a view never changes, may be handed to a worker thread and may
 * end up inside a node's output without making the outputs refer to themselves. Immutable.
 */
final class NodesView extends AbstractMap<String, Object> {

  private final String[] ids;
  private final Object[] outputs;
  private final int count;

  NodesView(String[] ids, Object[] outputs, int count) {
    this.ids = ids;
    this.outputs = outputs;
    this.count = count;
  }

  @Override
  public int size() {
    return count;
  }

  @Override
  public boolean containsKey(Object key) {
    return indexOf(key) >= 0;
  }

  @Override
  public Object get(Object key) {
    int i = indexOf(key);
    return i >= 0 ? outputs[i] : null;
  }

  /** A linear scan: flows have few nodes, and a shared hash index could not be read safely from worker threads. */
  private int indexOf(Object key) {
    for (int i = 0; i < count; i++) {
      if (ids[i].equals(key)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public Set<Entry<String, Object>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public int size() {
        return count;
      }

      @Override
      public Iterator<Entry<String, Object>> iterator() {
        return new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < count;
          }

          @Override
          public Entry<String, Object> next() {
            if (next >= count) {
              throw new NoSuchElementException();
            }
            int i = next++;
            return new SimpleImmutableEntry<>(ids[i], outputs[i]);
          }
        };
      }
    };
  }
}
