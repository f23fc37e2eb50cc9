"""The service catalog: what requesters can order, with its form, approval rule and fulfilment."""
