Lisbon (Sample News) -- The new school in Lisbon opened on Monday after 5 months of work.

Mayor Jun said the school would serve the whole region

"We waited a long time for this," Jun told reporters.

About 50 people attended the opening ceremony.

@highlight

New school opens in Lisbon after 5 months

@highlight

Mayor Jun says it will serve the region
