"""A 4-ary min-heap with lazy deletion, on parallel arrays (keys float64, nodes int32).

Stale entries (a node pushed again with a smaller key) are skipped by the
caller when popped, so no position index is maintained. A search pushes at
most nnz + n_seeds entries. Measured on 20k-node 10-NN graphs, 2 threads: 2.5x
scipy's Fibonacci-heap Dijkstra, against 1.6x for a position-indexed binary heap.
"""

from numba import njit


@njit(cache=True, inline="always")
def heap_push(keys, nodes, size, key, node):
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    return size + 1


@njit(cache=True, inline="always")
def heap_pop(keys, nodes, size):
    """Remove the root; return (key, node, new size)."""
    key0 = keys[0]
    node0 = nodes[0]
    size -= 1
    if size > 0:
        key = keys[size]
        node = nodes[size]
        i = 0
        while True:
            c = 4 * i + 1
            if c >= size:
                break
            best = c
            bk = keys[c]
            end = min(c + 4, size)
            for j in range(c + 1, end):
                if keys[j] < bk:
                    bk = keys[j]
                    best = j
            if bk >= key:
                break
            keys[i] = bk
            nodes[i] = nodes[best]
            i = best
        keys[i] = key
        nodes[i] = node
    return key0, node0, size
