Lisbon (Sample News) -- The new tower in Lisbon opened on Monday after 15 months of work.

Mayor Karin said the tower would serve the whole region

"We waited a long time for this," Karin told reporters.

About 150 people attended the opening ceremony.

@highlight

New tower opens in Lisbon after 15 months

@highlight

Mayor Karin says it will serve the region
